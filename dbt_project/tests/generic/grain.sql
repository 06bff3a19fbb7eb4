{#-
    The model's grain: no two rows share a value of `columns` (a list). Every mart has one (see its description's
    "Grain:"), so a join that fans out or an aggregate that loses a dimension fails the build.
-#}
{% test grain(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as rows_at_this_grain
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
