-- Each sending domain's DKIM key (sqlite). Keep in step with the other dialect's 0009_domain_dkim.sql.

-- The private key, PKCS#1 PEM sealed with secrets.key and bound to the domain's id;
-- NULL for a domain added before keys were made (add_domain again makes one).
ALTER TABLE email_domains ADD COLUMN dkim_key BLOB;
-- The public key published at voxgate._domainkey.<domain> (base64 DER SubjectPublicKeyInfo).
ALTER TABLE email_domains ADD COLUMN dkim_public TEXT;
