-- Sync Event Log Export
-- Generated: 2025-12-04T00:00:00+00:00

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
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T10:00:10+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'state_transition', 'lifecycle', 'info', 'g4', NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T10:00:06+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'state_transition', 'lifecycle', 'info', 'g3', NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T10:00:03+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'state_transition', 'lifecycle', 'info', 'g2', NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T10:00:01+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'state_transition', 'lifecycle', 'info', 'g1', NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T10:00:12+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'state_transition', 'lifecycle', 'info', 'blob time', NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T10:00:09+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'state_transition', 'lifecycle', 'info', 'blob', NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T10:00:08+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'state_transition', 'lifecycle', 'info', 'bad�', NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T10:00:07+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'state_transition', 'lifecycle', 'info', '', NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T10:00:05+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', ' sync_error', 'error', 'error', 'type space sync_error', NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T10:00:04+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'state_transition', 'lifecycle', 'INFO', 'severity INFO', NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03T10:00:02+00:00', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'StateTransition', 'lifecycle', 'info', 'type StateTransition', NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO sync_event_log (timestamp, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms) VALUES ('2025-12-03 10:00:11', '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f', 'state_transition', 'lifecycle', 'info', 'no zone', NULL, NULL, NULL, NULL, NULL, NULL);
COMMIT;

