{{ stg_contacts('letter') }}
