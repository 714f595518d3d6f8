-- chanhost schema, shared by SQLite and PostgreSQL.
-- One dialect serves both: row ids are made by the application (UUIDv7,
-- time-ordered text), never by a database sequence.
-- Money is BIGINT fen, time BIGINT milliseconds since the epoch (UTC),
-- flags BIGINT 0/1, lists and documents JSON in TEXT.

CREATE TABLE products (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    pack_size BIGINT NOT NULL,
    base_price BIGINT NOT NULL CHECK (base_price > 0),
    new_product BIGINT NOT NULL,
    restricted_to TEXT NOT NULL
);

CREATE TABLE regions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    neighbours TEXT NOT NULL,
    price_adjustment_bp BIGINT NOT NULL,
    listing TEXT NOT NULL
);

CREATE TABLE warehouses (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT NOT NULL REFERENCES regions(id),
    level TEXT NOT NULL,
    owner TEXT
);
CREATE INDEX warehouses_region ON warehouses(region);

CREATE TABLE dealers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT NOT NULL REFERENCES regions(id),
    tier TEXT NOT NULL,
    class TEXT NOT NULL,
    territory TEXT NOT NULL,
    credit_limit BIGINT NOT NULL,
    outstanding_balance BIGINT NOT NULL,
    usual_order_cases BIGINT NOT NULL
);
CREATE INDEX dealers_region ON dealers(region);

-- available = on_hand - reserved; the CHECK is the last line against overselling.
CREATE TABLE stock (
    warehouse_id TEXT NOT NULL REFERENCES warehouses(id),
    sku TEXT NOT NULL REFERENCES products(sku),
    on_hand BIGINT NOT NULL,
    reserved BIGINT NOT NULL DEFAULT 0,
    target BIGINT NOT NULL DEFAULT 0,
    daily_demand BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (warehouse_id, sku),
    CHECK (reserved >= 0 AND on_hand >= reserved)
);
CREATE INDEX stock_sku ON stock(sku);

-- Append-only: every change of on_hand or reserved, with why and who.
CREATE TABLE movements (
    id TEXT PRIMARY KEY,
    warehouse_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    kind TEXT NOT NULL,
    on_hand_delta BIGINT NOT NULL,
    reserved_delta BIGINT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    order_id TEXT,
    transfer_id TEXT,
    claim_id TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX movements_stock ON movements(warehouse_id, sku, id);
CREATE INDEX movements_order ON movements(order_id);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    dealer_id TEXT NOT NULL REFERENCES dealers(id),
    region TEXT NOT NULL,
    ship_to TEXT NOT NULL,
    order_type TEXT NOT NULL,
    urgency TEXT NOT NULL,
    status TEXT NOT NULL,
    placed_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    subtotal BIGINT NOT NULL,
    discount BIGINT NOT NULL,
    total BIGINT NOT NULL CHECK (total >= 0),
    paid BIGINT NOT NULL DEFAULT 0,
    priority BIGINT NOT NULL,
    reasons TEXT NOT NULL,
    decision TEXT NOT NULL,
    context TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    placed_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX orders_idempotency ON orders(dealer_id, idempotency_key);
CREATE INDEX orders_placed ON orders(placed_at, id);
CREATE INDEX orders_region ON orders(region, placed_at, id);
CREATE INDEX orders_dealer ON orders(dealer_id, placed_at, id);
CREATE INDEX orders_status ON orders(status, placed_at, id);

CREATE TABLE order_lines (
    order_id TEXT NOT NULL REFERENCES orders(id),
    line_no BIGINT NOT NULL,
    sku TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price BIGINT NOT NULL,
    discount BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    free BIGINT NOT NULL,
    promotion_id TEXT,
    PRIMARY KEY (order_id, line_no)
);

-- Stock reserved for an order, per source warehouse; shipped counts what left.
CREATE TABLE allocations (
    order_id TEXT NOT NULL REFERENCES orders(id),
    warehouse_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    shipped BIGINT NOT NULL DEFAULT 0,
    released BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, warehouse_id, sku)
);

CREATE TABLE backorders (
    order_id TEXT NOT NULL REFERENCES orders(id),
    sku TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (order_id, sku)
);

-- The order's timeline: every transition with actor and time.
CREATE TABLE order_events (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_events_order ON order_events(order_id, id);

CREATE TABLE shipments (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    warehouse_id TEXT NOT NULL,
    carrier TEXT NOT NULL,
    tracking_no TEXT NOT NULL,
    status TEXT NOT NULL,
    claim_id TEXT,
    shipped_by TEXT NOT NULL,
    shipped_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX shipments_order ON shipments(order_id);

CREATE TABLE shipment_lines (
    shipment_id TEXT NOT NULL REFERENCES shipments(id),
    sku TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (shipment_id, sku)
);

CREATE TABLE tracking_events (
    id TEXT PRIMARY KEY,
    shipment_id TEXT NOT NULL REFERENCES shipments(id),
    at BIGINT NOT NULL,
    location TEXT NOT NULL,
    description TEXT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX tracking_events_shipment ON tracking_events(shipment_id, id);

-- Payments against an order (order_id set) or the dealer's credit balance.
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    dealer_id TEXT NOT NULL REFERENCES dealers(id),
    order_id TEXT REFERENCES orders(id),
    method TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    reference TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX payments_order ON payments(order_id);
CREATE INDEX payments_dealer ON payments(dealer_id, at);

CREATE TABLE claims (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    dealer_id TEXT NOT NULL,
    region TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    photos TEXT NOT NULL,
    lines TEXT NOT NULL,
    status TEXT NOT NULL,
    resolution TEXT,
    refund_amount BIGINT,
    reshipment_id TEXT,
    decision_note TEXT,
    decided_by TEXT,
    decided_at BIGINT,
    opened_by TEXT NOT NULL,
    opened_at BIGINT NOT NULL
);
CREATE INDEX claims_order ON claims(order_id);
CREATE INDEX claims_region ON claims(region, opened_at);

CREATE TABLE transfers (
    id TEXT PRIMARY KEY,
    from_warehouse TEXT NOT NULL REFERENCES warehouses(id),
    to_warehouse TEXT NOT NULL REFERENCES warehouses(id),
    from_region TEXT NOT NULL,
    to_region TEXT NOT NULL,
    status TEXT NOT NULL,
    route TEXT NOT NULL,
    cost_estimate BIGINT NOT NULL,
    reason TEXT NOT NULL,
    alert_id TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    approved_by TEXT,
    approved_at BIGINT,
    shipped_at BIGINT,
    received_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX transfers_status ON transfers(status, created_at);

CREATE TABLE transfer_lines (
    transfer_id TEXT NOT NULL REFERENCES transfers(id),
    sku TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (transfer_id, sku)
);

-- One open alert per subject (dedupe_key); resolved ones stay as history.
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    region TEXT NOT NULL,
    warehouse_id TEXT,
    sku TEXT,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    details TEXT NOT NULL,
    transfer_id TEXT,
    dedupe_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE UNIQUE INDEX alerts_open ON alerts(dedupe_key) WHERE status = 'open';
CREATE INDEX alerts_region ON alerts(region, status);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    region TEXT,
    dealer_id TEXT,
    created_at BIGINT NOT NULL
);
