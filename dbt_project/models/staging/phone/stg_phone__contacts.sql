{{ stg_contacts('phone') }}
