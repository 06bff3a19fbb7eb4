{{ stg_contacts('sms') }}
