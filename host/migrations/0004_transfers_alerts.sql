-- Transfers and alerts: each transfer's timeline (who moved it, when, why),
-- who resolved an alert and with what note, and a record of every alert
-- scan so the next one knows which orders it has already looked at.

CREATE TABLE transfer_events (
    id TEXT PRIMARY KEY,
    transfer_id TEXT NOT NULL REFERENCES transfers(id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX transfer_events_transfer ON transfer_events(transfer_id, id);

-- A region admin's list: transfers into or out of the region.
CREATE INDEX transfers_from_region ON transfers(from_region, created_at);
CREATE INDEX transfers_to_region ON transfers(to_region, created_at);
CREATE INDEX transfer_lines_sku ON transfer_lines(sku);

ALTER TABLE alerts ADD COLUMN resolved_by TEXT;
ALTER TABLE alerts ADD COLUMN resolution_note TEXT;
CREATE INDEX alerts_kind ON alerts(kind, status);

CREATE TABLE alert_scans (
    id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX alert_scans_started ON alert_scans(started_at);
