INSERT INTO ops.events (type, subject_id, data) VALUES (%(type)s, %(subject_id)s, %(data)s);
