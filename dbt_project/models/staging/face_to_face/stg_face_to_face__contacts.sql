{{ stg_contacts('face_to_face') }}
