//! The outbox a design lends its components: they report what happened into it, and the design
//! takes the reports back one at a time, in order.

/// Outcomes of component calls (a commit, a failure, a log's answer), waiting for the design
/// that owns the components to handle them.
///
/// A component call pushes into [`Outbox::sink`]; the design then takes them with
/// [`Outbox::take_next`], which borrows the outbox only for the call, so each handler has all of
/// `&mut self`. An outcome pushed while the batch is being handled (a handler called a component
/// again) is taken after those already there: none is dropped or overtaken. The buffer's
/// allocation is kept from one batch to the next, so the hot path allocates nothing.
#[derive(Clone, Debug)]
pub struct Outbox<T> {
    items: Vec<T>,
    /// How many of `items` have been taken.
    head: usize,
}

impl<T> Default for Outbox<T> {
    fn default() -> Self {
        Self { items: Vec::new(), head: 0 }
    }
}

impl<T: Copy> Outbox<T> {
    /// Where a component call puts its outcomes.
    #[inline]
    pub fn sink(&mut self) -> &mut Vec<T> {
        &mut self.items
    }

    /// The oldest outcome not yet taken; `None` when all are (the buffer is then emptied, its
    /// allocation kept).
    #[inline]
    pub fn take_next(&mut self) -> Option<T> {
        match self.items.get(self.head) {
            Some(&item) => {
                self.head += 1;
                Some(item)
            }
            None => {
                self.items.clear();
                self.head = 0;
                None
            }
        }
    }

    /// Whether every outcome has been taken.
    pub fn is_empty(&self) -> bool {
        self.head == self.items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_come_back_in_order_and_pushes_while_handling_are_taken_after() {
        let mut out = Outbox::default();
        out.sink().extend([1, 2, 3]);
        let mut seen = Vec::new();
        while let Some(x) = out.take_next() {
            seen.push(x);
            if x == 2 {
                out.sink().push(20); // a handler that called a component again
            }
        }
        assert_eq!(seen, [1, 2, 3, 20]);
        assert!(out.is_empty());
        let capacity = out.sink().capacity();
        out.sink().push(7);
        assert_eq!((out.take_next(), out.take_next()), (Some(7), None));
        assert_eq!(out.sink().capacity(), capacity, "the allocation is kept");
    }
}
