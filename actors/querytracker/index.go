package querytracker

// index is a set of values per key: the tracked peeks of each connection,
// the live executions of each connection. No key maps to an empty set, so
// len(index) counts the keys that have values.
type index[K, V comparable] map[K]map[V]struct{}

// add puts v in the set of k.
func (x index[K, V]) add(k K, v V) {
	set := x[k]
	if set == nil {
		set = map[V]struct{}{}
		x[k] = set
	}
	set[v] = struct{}{}
}

// remove takes v out of the set of k, dropping the set when it empties.
func (x index[K, V]) remove(k K, v V) {
	if set := x[k]; set != nil {
		delete(set, v)
		if len(set) == 0 {
			delete(x, k)
		}
	}
}
