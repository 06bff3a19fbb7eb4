{{ stg_contacts('web_form') }}
