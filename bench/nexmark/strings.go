package nexmark

import (
	"math"
	"math/bits"
	"strconv"
	"strings"
	"sync"
)

// The fixed vocabularies of nexmark-flink's PersonGenerator and BidGenerator.
// There are few states so that query 3 finds results on small streams.
var (
	usStates    = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	usCities    = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	firstNames  = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames   = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	hotChannels = []string{"Google", "Facebook", "Baidu", "Apple"}
)

const (
	// minStringLength is StringsGenerator.MIN_STRING_LENGTH.
	minStringLength = 3
	// poolLen is the length of the shared random texts that strings are cut
	// from, nexmark-flink's REUSABLE_EXTRA_STRING length (1 MiB).
	poolLen = 1 << 20
	// channelsNumber is BidGenerator.CHANNELS_NUMBER.
	channelsNumber = 10_000
	// hotChannelsRatio is BidGenerator.HOT_CHANNELS_RATIO: half the bids
	// come from a hot channel.
	hotChannelsRatio = 2
)

// stringTables are the strings shared by every generator, built once from a
// fixed seed so that they, too, are the same in every process.
type stringTables struct {
	// letters is poolLen random lowercase letters: Extra fields are cut
	// from it, as nexmark-flink's nextExactString cuts them from
	// REUSABLE_EXTRA_STRING.
	letters string
	// words is poolLen characters that are a space with probability 1/13
	// and otherwise a random lowercase letter, the per-character law of
	// StringsGenerator.nextString; item names, descriptions and e-mail
	// parts are cut from it.
	words string
	// names holds every "First Last" combination, indexed
	// first*len(lastNames)+last.
	names []string
	// hotURLs are the URLs of hotChannels (BidGenerator.HOT_URLS).
	hotURLs []string
	// channels and channelURLs are BidGenerator's CHANNEL_URL_CACHE:
	// "channel-i" and a random URL, 9 in 10 of them tagged with a channel_id.
	channels, channelURLs []string
}

var (
	tablesOnce sync.Once
	tables     *stringTables
)

// sharedTables builds the tables on first use (about 10 ms) rather than at
// package initialisation, so that importing the package costs nothing.
func sharedTables() *stringTables {
	tablesOnce.Do(func() { tables = buildTables() })
	return tables
}

func buildTables() *stringTables {
	r := eventRand{s: 0x6e65786d61726b} // "nexmark": any fixed value will do
	t := &stringTables{}
	b := make([]byte, poolLen)
	for i := range b {
		b[i] = byte('a' + r.intn(26))
	}
	t.letters = string(b)
	for i := range b {
		if r.intn(13) == 0 {
			b[i] = ' '
		} else {
			b[i] = byte('a' + r.intn(26))
		}
	}
	t.words = string(b)
	for _, f := range firstNames {
		for _, l := range lastNames {
			t.names = append(t.names, f+" "+l)
		}
	}
	for range hotChannels {
		t.hotURLs = append(t.hotURLs, baseURL(&r))
	}
	t.channels = make([]string, channelsNumber)
	t.channelURLs = make([]string, channelsNumber)
	for i := range channelsNumber {
		url := baseURL(&r)
		if r.intn(10) > 0 {
			url += "&channel_id=" + strconv.FormatInt(int64(javaAbs32(int32(bits.Reverse32(uint32(i))))), 10)
		}
		t.channels[i] = "channel-" + strconv.Itoa(i)
		t.channelURLs[i] = url
	}
	return t
}

// javaAbs32 is Java's Math.abs(int): MinInt32 stays negative, so channel 1's
// id is -2147483648 exactly as in nexmark-flink.
func javaAbs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// baseURL is BidGenerator.getBaseUrl: three random path segments with '_' as
// the special character.
func baseURL(r *eventRand) string {
	var sb strings.Builder
	sb.WriteString("https://www.nexmark.com/")
	for range 3 {
		sb.WriteString(freshString(r, 5, '_'))
		sb.WriteByte('/')
	}
	sb.WriteString("item.htm?query=1")
	return sb.String()
}

// freshString is StringsGenerator.nextString(random, maxLength, special),
// building a new string; it is used only for the tables.
func freshString(r *eventRand, maxLength int, special byte) string {
	n := minStringLength + int(r.intn(int64(maxLength-minStringLength)))
	b := make([]byte, n)
	for i := range b {
		if r.intn(13) == 0 {
			b[i] = special
		} else {
			b[i] = byte('a' + r.intn(26))
		}
	}
	return strings.Trim(string(b), " ")
}

// nextString is StringsGenerator.nextString(random, maxLength): a string of
// length uniform in [3, maxLength) whose characters are a space with
// probability 1/13 and otherwise a random letter, then trimmed. It cuts the
// string from the shared words text at a random offset instead of drawing
// each character, which gives the same law for each string without
// allocating; strings of different events may share text.
func (t *stringTables) nextString(r *eventRand, maxLength int) string {
	n := minStringLength + int(r.intn(int64(maxLength-minStringLength)))
	off := int(r.intn(int64(len(t.words) - n)))
	return strings.Trim(t.words[off:off+n], " ")
}

// nextExtra is StringsGenerator.nextExtra: padding such that currentSize plus
// its length is on average desiredAverageSize, uniform within ±20%.
func (t *stringTables) nextExtra(r *eventRand, currentSize, desiredAverageSize int) string {
	if currentSize > desiredAverageSize {
		return ""
	}
	desired := desiredAverageSize - currentSize
	delta := int(math.Floor(float64(desired)*0.2 + 0.5))
	size := desired - delta
	if delta != 0 {
		size += int(r.intn(int64(2 * delta)))
	}
	return t.nextExactString(r, size)
}

// nextExactString is StringsGenerator.nextExactString: size random letters,
// cut from the shared letters text as nexmark-flink does for every size
// below half the text's length. Larger sizes (an average event size over
// half a MiB) are built afresh.
func (t *stringTables) nextExactString(r *eventRand, size int) string {
	if size < len(t.letters)/2 {
		off := int(r.intn(int64(len(t.letters) - size)))
		return t.letters[off : off+size]
	}
	b := make([]byte, size)
	for i := range b {
		b[i] = byte('a' + r.intn(26))
	}
	return string(b)
}
