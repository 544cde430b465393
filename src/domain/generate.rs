//! Realistic, deterministic demo data: the booking wizard filled in the way a
//! person would. A seed gives the same forms (and the same client UUIDs) every
//! time, so re-running a seeded bulk emit is a run of idempotent retries.

use chrono::{Days, NaiveDate};
use uuid::Uuid;

use super::command::BookingWizardForm;

const FIRST_NAMES: [&str; 24] = [
    "Ana", "Luis", "Marta", "Jorge", "Lucía", "Pablo", "Elena", "Diego", "Sofía", "Javier",
    "Carmen", "Raúl", "Noa", "Iker", "Aitana", "Hugo", "Olivia", "Mateo", "Emma", "Leo", "Chloé",
    "Yusuf", "Mei", "Amara",
];
const LAST_NAMES: [&str; 20] = [
    "García",
    "Martínez",
    "López",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Fernández",
    "Díaz",
    "Moreno",
    "Álvarez",
    "Romero",
    "Navarro",
    "Torres",
    "Ruiz",
    "O'Brien",
    "Nakamura",
    "Okafor",
    "Schmidt",
    "Rossi",
    "Dubois",
];
const STREETS: [&str; 16] = [
    "Calle Mayor",
    "Calle A",
    "Calle B",
    "Gran Vía",
    "Paseo del Prado",
    "Calle de Alcalá",
    "Rambla Nova",
    "Avenida de la Constitución",
    "Calle Serrano",
    "Calle Larios",
    "Plaza Nueva",
    "Calle San Fernando",
    "Camino Real",
    "Ronda de Valencia",
    "Calle del Sol",
    "Avenida del Puerto",
];
const SERVICES: [(&str, i64); 8] = [
    ("Standard Room", 8_900),
    ("Double Room", 12_900),
    ("Junior Suite", 19_900),
    ("Sea View Suite", 27_500),
    ("Family Apartment", 16_500),
    ("Spa Weekend", 34_000),
    ("City Tour", 4_500),
    ("Hostel Bed", 2_900),
];
const DOMAINS: [&str; 6] = [
    "example.com",
    "correo.es",
    "mail.test",
    "example.org",
    "posta.it",
    "inbox.dev",
];

/// A small deterministic PRNG (SplitMix64): stable across builds and crates.
#[derive(Clone, Debug)]
pub struct DemoRng(u64);

impl DemoRng {
    /// Seeds the generator.
    pub fn new(seed: u64) -> Self {
        DemoRng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A random element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A UUID v4 made from this generator's bits.
    pub fn uuid_v4(&mut self) -> Uuid {
        let bits = (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64());
        uuid::Builder::from_random_bytes(bits.to_be_bytes()).into_uuid()
    }
}

/// A filled-in booking wizard. `customers` bounds how many distinct people
/// appear, so users repeat across bookings as they do in real life.
pub fn booking_form(rng: &mut DemoRng, customers: u64) -> BookingWizardForm {
    let person = rng.below(customers.max(1));
    let mut who = DemoRng::new(person);
    let first = *who.pick(&FIRST_NAMES);
    let last = *who.pick(&LAST_NAMES);
    let domain = *who.pick(&DOMAINS);
    let email = format!(
        "{}.{}{}@{}",
        ascii_slug(first),
        ascii_slug(last),
        person,
        domain
    );
    let address = format!("{} {}", who.pick(&STREETS), 1 + who.below(180));
    let (service, nightly) = *rng.pick(&SERVICES);
    let base = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let check_in = base
        .checked_add_days(Days::new(rng.below(540)))
        .unwrap_or(base);
    let nights = 1 + rng.below(14);
    let check_out = check_in
        .checked_add_days(Days::new(nights))
        .unwrap_or(check_in);
    let guests = 1 + rng.below(6);
    let cents = nightly * nights as i64 + (rng.below(100) as i64) * 5;
    BookingWizardForm {
        email,
        name: format!("{first} {last}"),
        address,
        service: service.to_string(),
        check_in: check_in.to_string(),
        check_out: check_out.to_string(),
        guests: guests.to_string(),
        price: format!("{}.{:02}", cents / 100, cents % 100),
    }
}

/// A new street address, for demo address changes.
pub fn address(rng: &mut DemoRng) -> String {
    format!("{} {}", rng.pick(&STREETS), 1 + rng.below(180))
}

fn ascii_slug(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'á' | 'Á' => Some('a'),
            'é' | 'É' => Some('e'),
            'í' | 'Í' => Some('i'),
            'ó' | 'Ó' => Some('o'),
            'ú' | 'Ú' => Some('u'),
            'ñ' | 'Ñ' => Some('n'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
