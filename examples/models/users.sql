-- model: users
-- version: 1
-- The built-in `users` table written as a model: a user appears with their
-- first booking (later bookings change nothing) and follows address changes.

CREATE TABLE users(
    user_id UUID PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    created_position INTEGER NOT NULL,
    last_position INTEGER NOT NULL
);

ON BookingWizardCompleted:
INSERT INTO users(user_id, email, name, address, created_position, last_position)
VALUES (:payload.user.user_id, :payload.user.email, :payload.user.name,
        :payload.user.address, :position, :position)
ON CONFLICT(user_id) DO NOTHING;

ON UserAddressChanged:
UPDATE users SET address = :payload.new_address, last_position = :position
WHERE user_id = :payload.user_id AND last_position < :position;
