{{ stg_contacts('social') }}
