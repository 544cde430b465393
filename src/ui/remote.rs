//! `Remote<T>`: something the window asked the background for. It keeps the
//! last answer on screen while a new one is asked for (at a position or for
//! a generation, since when), so a panel never juggles `x`, `x_pending` and
//! `x_asked` by hand.

use std::time::{Duration, Instant};

/// The question out: what it was asked for and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asked {
    /// What it is for: a position, a filter generation (0 when nothing).
    pub key: u64,
    /// When it was asked.
    pub at: Instant,
}

/// A value fetched in the background.
#[derive(Clone, Debug)]
pub struct Remote<T> {
    value: Option<T>,
    /// What the current value is for.
    key: Option<u64>,
    asked: Option<Asked>,
    /// When it was last asked for (kept after the answer arrives).
    last_asked: Option<Instant>,
}

impl<T> Default for Remote<T> {
    fn default() -> Self {
        Remote {
            value: None,
            key: None,
            asked: None,
            last_asked: None,
        }
    }
}

impl<T> Remote<T> {
    /// The last answer, if any.
    pub fn value(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// The last answer, to change in place (pages read into it).
    pub fn value_mut(&mut self) -> Option<&mut T> {
        self.value.as_mut()
    }

    /// What the last answer is for.
    pub fn key(&self) -> Option<u64> {
        self.key
    }

    /// True while a question is out.
    pub fn is_asked(&self) -> bool {
        self.asked.is_some()
    }

    /// The question out, if any.
    pub fn asked(&self) -> Option<Asked> {
        self.asked
    }

    /// Whether it was last asked for more than `age` ago (or never).
    pub fn asked_before(&self, age: Duration) -> bool {
        self.last_asked.is_none_or(|at| at.elapsed() > age)
    }

    /// Records a question for `key`.
    pub fn ask(&mut self, key: u64) {
        let at = Instant::now();
        self.asked = Some(Asked { key, at });
        self.last_asked = Some(at);
    }

    /// The answer for `key` arrived.
    pub fn arrive(&mut self, key: u64, value: T) {
        self.value = Some(value);
        self.key = Some(key);
        self.asked = None;
    }

    /// The question failed (the last answer, if any, stays).
    pub fn fail(&mut self) {
        self.asked = None;
    }

    /// Forgets the answer (the question, if out, stays).
    pub fn clear(&mut self) {
        self.value = None;
        self.key = None;
    }

    /// Whether the answer (or the question out) is for `key`.
    pub fn is_for(&self, key: u64) -> bool {
        self.asked.map_or(self.key == Some(key), |a| a.key == key)
    }
}

#[cfg(test)]
mod tests {
    use super::Remote;

    #[test]
    fn the_last_answer_stays_while_a_new_one_is_asked() {
        let mut r: Remote<&str> = Remote::default();
        assert!(!r.is_asked() && r.value().is_none());
        r.ask(5);
        assert!(r.is_asked() && r.is_for(5));
        r.arrive(5, "five");
        assert_eq!(
            (r.value(), r.key(), r.is_asked()),
            (Some(&"five"), Some(5), false)
        );
        r.ask(6);
        assert_eq!(r.value(), Some(&"five"), "still shown");
        assert!(r.is_for(6) && !r.is_for(5));
        r.fail();
        assert!(r.is_for(5));
        assert!(
            !r.asked_before(std::time::Duration::from_secs(60)),
            "asked a moment ago"
        );
    }
}
