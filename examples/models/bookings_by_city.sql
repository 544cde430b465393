-- model: bookings_by_city
-- version: 1
-- Bookings per city of the address given in the wizard. The generator's
-- addresses are a street and a number ("Calle Mayor 12") with no city, so
-- the city is the text after the last comma, or "(no city)" when there is
-- none: on the demo ledger every booking lands in "(no city)".

CREATE TABLE bookings_by_city(
    city TEXT PRIMARY KEY,
    bookings INTEGER NOT NULL,
    cancelled INTEGER NOT NULL
);

CREATE TABLE booking_city(
    booking_id UUID PRIMARY KEY,
    city TEXT NOT NULL,
    cancelled INTEGER NOT NULL DEFAULT 0
);

ON BookingWizardCompleted:
INSERT INTO booking_city(booking_id, city)
VALUES (:payload.booking_id,
        CASE WHEN instr(:payload.user.address, ',') = 0 THEN '(no city)'
             ELSE trim(replace(:payload.user.address,
                               rtrim(:payload.user.address, replace(:payload.user.address, ',', '')), ''))
        END)
ON CONFLICT(booking_id) DO NOTHING;
INSERT INTO bookings_by_city(city, bookings, cancelled)
SELECT city, 1, 0 FROM booking_city WHERE booking_id = :payload.booking_id AND true
ON CONFLICT(city) DO UPDATE SET bookings = bookings + 1;

ON BookingCancelled:
UPDATE bookings_by_city SET cancelled = cancelled + 1
WHERE city = (SELECT city FROM booking_city
              WHERE booking_id = :payload.booking_id AND cancelled = 0);
UPDATE booking_city SET cancelled = 1 WHERE booking_id = :payload.booking_id;
