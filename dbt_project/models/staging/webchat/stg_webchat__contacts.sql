{{ stg_contacts('webchat') }}
