-- Payments: an optional client idempotency key, so a retried payment is
-- recorded once (NULL keys never collide, on SQLite and PostgreSQL alike),
-- and the claim a refund entry settles.
ALTER TABLE payments ADD COLUMN idempotency_key TEXT;
ALTER TABLE payments ADD COLUMN claim_id TEXT;
CREATE UNIQUE INDEX payments_idempotency ON payments(dealer_id, idempotency_key);

-- A dealer's own claims, newest first.
CREATE INDEX claims_dealer ON claims(dealer_id, opened_at);
