-- Writes made outside autoadmin (`[admin] watch_external = true`): a row trigger on each
-- entity's table records in the audit log each insert, update and delete that autoadmin did not
-- make, as autoadmin records its own (field names, the changed fields of an update, never a
-- password's value), so they are in the records' history and reach the live updates (it
-- notifies the instances that follow the log, as autoadmin does after its own commits). autoadmin's transactions say
-- `SET LOCAL autoadmin.writer = 'on'` and are left alone.
-- Arguments: the entity; its key column; {column: field} of its readable fields;
-- [[column, field], …] of its password fields.
CREATE OR REPLACE FUNCTION autoadmin_external() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE
  old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
  new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
  before jsonb := '{}';
  after jsonb := '{}';
  col text;
  fld text;
BEGIN
  IF current_setting('autoadmin.writer', true) = 'on' THEN
    RETURN NULL;
  END IF;
  FOR col, fld IN SELECT key, value FROM jsonb_each_text(TG_ARGV[2]::jsonb) LOOP
    CONTINUE WHEN TG_OP = 'UPDATE' AND old_row -> col IS NOT DISTINCT FROM new_row -> col;
    IF old_row ? col THEN
      before := before || jsonb_build_object(fld, old_row -> col);
    END IF;
    IF new_row ? col THEN
      after := after || jsonb_build_object(fld, new_row -> col);
    END IF;
  END LOOP;
  FOR col, fld IN SELECT value ->> 0, value ->> 1 FROM jsonb_array_elements(TG_ARGV[3]::jsonb) LOOP
    IF TG_OP = 'INSERT' AND new_row -> col <> 'null'
       OR TG_OP = 'UPDATE' AND old_row -> col IS DISTINCT FROM new_row -> col THEN
      after := after || jsonb_build_object(fld, '(changed)');
    END IF;
  END LOOP;
  IF TG_OP = 'UPDATE' AND after = '{}' THEN
    RETURN NULL;
  END IF;
  INSERT INTO autoadmin_audit (at, actor, entity, record_id, action, old_values, new_values)
  VALUES (clock_timestamp(), session_user || ' (outside autoadmin)', TG_ARGV[0],
          coalesce(new_row, old_row) ->> TG_ARGV[1],
          CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
          CASE WHEN TG_OP <> 'INSERT' THEN before END,
          CASE WHEN TG_OP <> 'DELETE' THEN after END);
  -- The instances that follow the log read it at once (delivered at commit).
  PERFORM pg_notify('autoadmin_audit', '');
  RETURN NULL;
END $f$;
