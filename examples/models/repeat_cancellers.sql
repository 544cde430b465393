-- model: repeat_cancellers
-- version: 1
-- Users who cancelled twice or more. `booked` remembers who made each
-- booking (a cancel carries only the booking's id); `cancellers` counts each
-- user's cancellations; the repeat cancellers are
-- `SELECT * FROM cancellers WHERE cancellations >= 2`.

CREATE TABLE booked(
    booking_id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    email TEXT NOT NULL,
    cancelled INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE cancellers(
    user_id UUID PRIMARY KEY,
    email TEXT NOT NULL,
    cancellations INTEGER NOT NULL,
    repeat INTEGER NOT NULL,
    last_cancelled_at TEXT NOT NULL
);

ON BookingWizardCompleted:
INSERT INTO booked(booking_id, user_id, email)
VALUES (:payload.booking_id, :payload.user.user_id, :payload.user.email)
ON CONFLICT(booking_id) DO NOTHING;

ON BookingCancelled:
INSERT INTO cancellers(user_id, email, cancellations, repeat, last_cancelled_at)
SELECT user_id, email, 1, 0, :occurred_at FROM booked
WHERE booking_id = :payload.booking_id AND cancelled = 0
ON CONFLICT(user_id) DO UPDATE SET
    cancellations = cancellations + 1,
    repeat = cancellations + 1 >= 2,
    last_cancelled_at = excluded.last_cancelled_at;
UPDATE booked SET cancelled = 1 WHERE booking_id = :payload.booking_id;
