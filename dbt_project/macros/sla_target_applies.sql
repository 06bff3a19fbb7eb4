{#- Which response target applies to a contact: the one definition, used to judge each contact
    (int_contacts__linked) and to measure attainment (the response_sla mart macro). -#}
{% macro sla_target_applies(targets, contacts) -%}
    {{ targets }}.channel = {{ contacts }}.channel
    and ({{ targets }}.platform is null or {{ targets }}.platform = {{ contacts }}.platform)
{%- endmacro %}
