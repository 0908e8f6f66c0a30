package topspeed

import "strconv"

// Event is one reading of one car: Flink's Tuple4<Integer, Integer, Double,
// Long> (carId, speed, distance, timestamp). The example's event time is
// Timestamp, and its key is CarID.
type Event struct {
	CarID     int32   // the key; Flink's f0
	Speed     int32   // km/h; Flink's f1, the field maxBy compares
	Distance  float64 // metres driven since the start; Flink's f2, the delta trigger's input
	Timestamp int64   // milliseconds since the Unix epoch; Flink's f3, the event time
}

// String formats e exactly as Flink's Tuple4.toString does, which is how the
// example prints its results and how its input files are written:
// "(carId,speed,distance,timestamp)", with the distance in Java's
// Double.toString form (see FormatJavaDouble), for example
// "(0,55,15.277777777777777,1424951918630)".
func (e Event) String() string {
	return string(e.AppendText(make([]byte, 0, 64)))
}

// AppendText appends e's String form to b, without a newline, and returns the
// extended slice.
func (e Event) AppendText(b []byte) []byte {
	b = append(b, '(')
	b = strconv.AppendInt(b, int64(e.CarID), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(e.Speed), 10)
	b = append(b, ',')
	b = AppendJavaDouble(b, e.Distance)
	b = append(b, ',')
	b = strconv.AppendInt(b, e.Timestamp, 10)
	return append(b, ')')
}
