//! `Outbox`: the sending half of the app's bounded inbox. Every send wakes the
//! window with `request_repaint`, so results show without polling.

use std::sync::{Arc, OnceLock};

use tokio::sync::mpsc;

use crate::ui::command::Message;

/// Messages the inbox holds before senders wait (backpressure).
pub const INBOX_CAPACITY: usize = 256;

/// Cloneable sender to the app.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::Sender<Message>,
    ctx: Arc<OnceLock<egui::Context>>,
}

impl Outbox {
    /// A bounded channel: the outbox and the app's receiver.
    pub fn channel() -> (Outbox, mpsc::Receiver<Message>) {
        let (tx, rx) = mpsc::channel(INBOX_CAPACITY);
        (
            Outbox {
                tx,
                ctx: Arc::new(OnceLock::new()),
            },
            rx,
        )
    }

    /// Tells the outbox which egui context to wake (set on the first frame).
    pub fn set_context(&self, ctx: &egui::Context) {
        let _ = self.ctx.set(ctx.clone());
    }

    fn wake(&self) {
        if let Some(ctx) = self.ctx.get() {
            ctx.request_repaint();
        }
    }

    /// Sends, waiting while the inbox is full. A closed app is not an error.
    pub async fn send(&self, message: Message) {
        if self.tx.send(message).await.is_ok() {
            self.wake();
        }
    }

    /// Sends if there is room; progress updates use this and may be dropped
    /// (the next one supersedes them).
    pub fn try_send(&self, message: Message) {
        if self.tx.try_send(message).is_ok() {
            self.wake();
        }
    }
}
