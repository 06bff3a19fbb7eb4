{#-
    Every value of the column is a code the glossary (seeds/glossary.csv) defines under `term`, naming any that
    is not: a new outcome, trigger or response target needs its definition before it reaches the marts.
-#}
{% test defined_in_glossary(model, column_name, term) %}
{%- set failing_sql -%}
select distinct {{ column_name }} as undefined_code
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} not in (select code from {{ ref('glossary') }} where term = {{ dbt.string_literal(term) }})
{%- endset -%}
{{ fail_naming_channels(failing_sql,
    model.identifier ~ "." ~ column_name ~ " holds value(s) that dbt_project/seeds/glossary.csv does not define "
    ~ "under term " ~ term ~ " (add a row: term,code,display_order,label,definition)") }}
{% endtest %}
