-- model: bookings
-- version: 1
-- The built-in `bookings` table written as a model: a booking appears with
-- the wizard, is cancelled, and moves with a reschedule.

CREATE TABLE bookings(
    booking_id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    service TEXT NOT NULL,
    check_in DATE NOT NULL,
    check_out DATE NOT NULL,
    guests INTEGER NOT NULL,
    price_cents INTEGER NOT NULL,
    status TEXT NOT NULL,
    last_position INTEGER NOT NULL
);

ON BookingWizardCompleted:
INSERT INTO bookings(booking_id, user_id, service, check_in, check_out, guests,
                     price_cents, status, last_position)
VALUES (:payload.booking_id, :payload.user.user_id, :payload.booking.service,
        :payload.booking.check_in, :payload.booking.check_out,
        :payload.booking.guests, :payload.booking.price_cents, 'confirmed', :position)
ON CONFLICT(booking_id) DO NOTHING;

ON BookingCancelled:
UPDATE bookings SET status = 'cancelled', last_position = :position
WHERE booking_id = :payload.booking_id AND last_position < :position;

ON BookingRescheduled:
UPDATE bookings SET check_in = :payload.check_in, check_out = :payload.check_out,
                    last_position = :position
WHERE booking_id = :payload.booking_id AND last_position < :position;
