//! The decoder's dynamic table (RFC 7541 2.3.2, 4): the fields the peer's
//! encoder chose to index, newest first, within a size budget.

use std::collections::VecDeque;

use super::field::Field;

/// The dynamic table: a FIFO of fields whose sizes (name + value + 32 each)
/// add up to at most `max_size`.
#[derive(Debug)]
pub(super) struct DynamicTable {
    /// The fields, newest at the front (dynamic index 0, HPACK index 62).
    fields: VecDeque<Field>,
    /// The sum of the fields' sizes.
    size: usize,
    /// The current maximum size, as the peer's last size update set it.
    max_size: usize,
}

impl DynamicTable {
    /// An empty table allowed `max_size`.
    pub(super) fn new(max_size: usize) -> DynamicTable {
        DynamicTable { fields: VecDeque::new(), size: 0, max_size }
    }

    /// The field at `index`, counting from the newest (0).
    pub(super) fn get(&self, index: usize) -> Option<&Field> {
        self.fields.get(index)
    }

    /// Adds a field as the newest, evicting the oldest until it fits. A field
    /// larger than the whole table is not added, and leaves the table empty
    /// (RFC 7541 4.4).
    pub(super) fn insert(&mut self, field: Field) {
        let size = field.size();
        if size > self.max_size {
            self.fields.clear();
            self.size = 0;
            return;
        }
        self.evict_to(self.max_size - size);
        self.size += size;
        self.fields.push_front(field);
    }

    /// Applies a dynamic table size update (the caller checked it against
    /// the advertised limit), evicting what no longer fits (RFC 7541 4.3).
    pub(super) fn set_max_size(&mut self, max_size: usize) {
        self.max_size = max_size;
        self.evict_to(max_size);
    }

    /// Evicts the oldest fields until the table's size is at most `size`.
    fn evict_to(&mut self, size: usize) {
        while self.size > size {
            let Some(oldest) = self.fields.pop_back() else { break };
            self.size -= oldest.size();
        }
    }

    /// The fields, newest first: for tests checking the table's state.
    #[cfg(test)]
    pub(super) fn fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter()
    }

    /// The sum of the fields' sizes: for tests checking the table's state.
    #[cfg(test)]
    pub(super) fn size(&self) -> usize {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    /// A field of `size` bytes (with the 32 of overhead) named `name`.
    fn sized(name: &'static str, size: usize) -> Field {
        let value = "v".repeat(size - 32 - name.len());
        Field::new(Bytes::from_static(name.as_bytes()), Bytes::from(value))
    }

    fn names(table: &DynamicTable) -> Vec<String> {
        table
            .fields()
            .map(|field| match field {
                Field::Valid(header) => header.name().to_owned(),
                Field::Invalid { .. } => "invalid".to_owned(),
            })
            .collect()
    }

    #[test]
    fn newest_first_and_oldest_evicted() {
        let mut table = DynamicTable::new(100);
        table.insert(sized("a", 40));
        table.insert(sized("b", 40));
        assert_eq!(names(&table), ["b", "a"]);
        assert_eq!(table.size(), 80);
        assert_eq!(table.get(0), Some(&sized("b", 40)));
        assert_eq!(table.get(2), None);
        table.insert(sized("c", 50));
        assert_eq!(names(&table), ["c", "b"]);
        assert_eq!(table.size(), 90);
        // Exactly filling the table evicts nothing more.
        table.insert(sized("d", 50));
        assert_eq!(names(&table), ["d", "c"]);
        assert_eq!(table.size(), 100);
    }

    #[test]
    fn a_field_larger_than_the_table_empties_it() {
        let mut table = DynamicTable::new(100);
        table.insert(sized("a", 40));
        table.insert(sized("b", 101));
        assert_eq!(names(&table), Vec::<String>::new());
        assert_eq!(table.size(), 0);
        table.insert(sized("c", 100));
        assert_eq!(names(&table), ["c"]);
    }

    #[test]
    fn size_updates_evict_and_bound_later_inserts() {
        let mut table = DynamicTable::new(100);
        table.insert(sized("a", 40));
        table.insert(sized("b", 40));
        table.set_max_size(50);
        assert_eq!(names(&table), ["b"]);
        table.set_max_size(0);
        assert_eq!(table.size(), 0);
        table.insert(sized("c", 33));
        assert_eq!(table.size(), 0);
        table.set_max_size(100);
        table.insert(sized("c", 33));
        assert_eq!(names(&table), ["c"]);
    }
}
