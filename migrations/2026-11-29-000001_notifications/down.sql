DROP TABLE notification_prefs;
DROP TABLE notifications;
DROP TABLE outbox;
