-- Sync Event Log Export
-- Generated: 2025-12-04T00:00:00.123456789+00:00

CREATE TABLE IF NOT EXISTS sync_event_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  timestamp TEXT NOT NULL,
  device_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  category TEXT NOT NULL,
  severity TEXT NOT NULL,
  summary TEXT NOT NULL,
  details TEXT,
  correlation_id TEXT,
  peer_device_id TEXT,
  model_types TEXT,
  record_count INTEGER,
  duration_ms INTEGER
);
CREATE INDEX IF NOT EXISTS idx_sync_event_log_timestamp ON sync_event_log(timestamp);
CREATE INDEX IF NOT EXISTS idx_sync_event_log_device ON sync_event_log(device_id);
CREATE INDEX IF NOT EXISTS idx_sync_event_log_type ON sync_event_log(event_type);
CREATE INDEX IF NOT EXISTS idx_sync_event_log_correlation ON sync_event_log(correlation_id);
CREATE INDEX IF NOT EXISTS idx_sync_event_log_peer ON sync_event_log(peer_device_id);
BEGIN;
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T13:00:00.100+00:00', '9f2c0e4a-7b1d-4e3f-8a5b-6c7d8e9f0a1b', 'peer_disconnected', 'network', 'warning', 'Peer disconnected: timeout', '{"reason":"timeout"}', NULL, 'c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f', NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T10:15:00.123456789+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'state_transition', 'lifecycle', 'info', 'CatchingUp { buffered_count: 0 } → Ready', '{"reason":"buffered updates processed"}', NULL, NULL, NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T10:00:00+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'batch_ingestion', 'data_flow', 'debug', 'Ingested batch of 300 records (200 entry, 100 tag)', NULL, NULL, '1b4e28ba-2fa1-11d2-883f-0016d3cca427', 'entry,tag', 300, 1200);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T09:30:00.250+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'sync_error', 'error', 'error', 'Weird: "quotes" | pipe / slash
new line	tabctl 😀 é→ it''s
end', '{"a":"\u0001 ctl \"q\" / é 😀","b":"tab\there","c":[1.5,-2,1000.0,0.1]}', NULL, NULL, NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T09:00:00.500+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'backfill_session_started', 'lifecycle', 'info', 'Selected peer 1b4e28ba-2fa1-11d2-883f-0016d3cca427 from 2 candidates', '{"candidates":[{"active_syncs":0,"device_id":"1b4e28ba-2fa1-11d2-883f-0016d3cca427","has_complete_state":true,"is_online":true,"latency_ms":23.45599937438965,"selected":true},{"active_syncs":1,"device_id":"c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f","has_complete_state":true,"is_online":true,"latency_ms":100.0,"selected":false}]}', '67e55044-10b1-426f-9247-bb680e5fe0c8', '1b4e28ba-2fa1-11d2-883f-0016d3cca427', NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T09:00:00.000123+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'peer_connected', 'network', 'info', 'Peer connected', NULL, NULL, '1b4e28ba-2fa1-11d2-883f-0016d3cca427', NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T07:00:00+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'backfill_request_sent', 'network', 'debug', 'Requested entry from peer', '{"attempt":1,"nested":{"a":{},"z":[]}}', '67e55044-10b1-426f-9247-bb680e5fe0c8', '1b4e28ba-2fa1-11d2-883f-0016d3cca427', NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T06:00:00.999999999+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'sync_error', 'error', 'warning', 'Watermark too old: 106751991167 days (threshold: 25 days), forcing full sync', '{"action":"force_full_sync","threshold_days":25,"watermark_age_days":106751991167}', NULL, 'c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f', NULL, NULL, NULL);
COMMIT;

