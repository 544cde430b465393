-- model: revenue_by_service_month
-- version: 1
-- Revenue and nights per service and month of check-in, cancellations taken
-- off. `stays` remembers each booking's service, month, price and nights, so
-- a cancel or a reschedule (whose events carry only the booking's id and
-- dates) takes the right amounts off the right month.

CREATE TABLE stays(
    booking_id UUID PRIMARY KEY,
    service TEXT NOT NULL,
    month TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    nights INTEGER NOT NULL,
    cancelled INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE revenue(
    service TEXT NOT NULL,
    month TEXT NOT NULL,
    revenue_cents INTEGER NOT NULL,
    nights INTEGER NOT NULL,
    bookings INTEGER NOT NULL,
    PRIMARY KEY (service, month)
);

ON BookingWizardCompleted:
INSERT INTO stays(booking_id, service, month, price_cents, nights)
VALUES (:payload.booking_id, :payload.booking.service,
        substr(:payload.booking.check_in, 1, 7), :payload.booking.price_cents,
        CAST(julianday(:payload.booking.check_out) - julianday(:payload.booking.check_in) AS INTEGER))
ON CONFLICT(booking_id) DO NOTHING;
INSERT INTO revenue(service, month, revenue_cents, nights, bookings)
SELECT service, month, price_cents, nights, 1 FROM stays
WHERE booking_id = :payload.booking_id AND true
ON CONFLICT(service, month) DO UPDATE SET
    revenue_cents = revenue_cents + excluded.revenue_cents,
    nights = nights + excluded.nights,
    bookings = bookings + 1;

ON BookingCancelled:
UPDATE revenue SET
    revenue_cents = revenue_cents - (SELECT price_cents FROM stays WHERE booking_id = :payload.booking_id),
    nights = nights - (SELECT nights FROM stays WHERE booking_id = :payload.booking_id),
    bookings = bookings - 1
WHERE (service, month) = (SELECT service, month FROM stays
                          WHERE booking_id = :payload.booking_id AND cancelled = 0);
UPDATE stays SET cancelled = 1 WHERE booking_id = :payload.booking_id;

ON BookingRescheduled:
UPDATE revenue SET
    revenue_cents = revenue_cents - (SELECT price_cents FROM stays WHERE booking_id = :payload.booking_id),
    nights = nights - (SELECT nights FROM stays WHERE booking_id = :payload.booking_id),
    bookings = bookings - 1
WHERE (service, month) = (SELECT service, month FROM stays
                          WHERE booking_id = :payload.booking_id AND cancelled = 0);
UPDATE stays SET
    month = substr(:payload.check_in, 1, 7),
    nights = CAST(julianday(:payload.check_out) - julianday(:payload.check_in) AS INTEGER)
WHERE booking_id = :payload.booking_id;
INSERT INTO revenue(service, month, revenue_cents, nights, bookings)
SELECT service, month, price_cents, nights, 1 FROM stays
WHERE booking_id = :payload.booking_id AND cancelled = 0 AND true
ON CONFLICT(service, month) DO UPDATE SET
    revenue_cents = revenue_cents + excluded.revenue_cents,
    nights = nights + excluded.nights,
    bookings = bookings + 1;
