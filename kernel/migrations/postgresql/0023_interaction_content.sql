-- 0023 what a channel message carries beyond its text (docs/channels.md): its kind
-- (text, image, location, …), media id and type, reply context, an ad's referral.
ALTER TABLE interactions ADD COLUMN content jsonb;
