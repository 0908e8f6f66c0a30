package kafka

// SplitState returns the checkpoint entry of a split of topic's partition
// at next, stopping at stop (-1: unbounded), for tests that restore a
// reader at a chosen offset.
func SplitState(topic string, partition int32, next, stop int64) []byte {
	return newSplit(topic, partition, next, stop, 0).encode()
}
