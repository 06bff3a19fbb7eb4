{{ stg_contacts('email') }}
