//go:build linux

package daemon

import (
	"os"
	"strconv"
	"strings"
)

// procStat reads /proc/<pid>/stat: the state and the start time in clock ticks since boot
// (field 22). It returns false if the file cannot be read or parsed.
func procStat(pid int) (stat, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, false
	}
	return parseProcStat(string(data))
}

// parseProcStat parses the content of /proc/<pid>/stat. The command name (field 2) is in
// parentheses and may itself contain spaces and parentheses, so fields are counted from the last
// ')'.
func parseProcStat(s string) (stat, bool) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return stat{}, false
	}
	fields := strings.Fields(s[i+1:]) // fields[0] is field 3 (state)
	const startField = 22 - 3
	if len(fields) <= startField {
		return stat{}, false
	}
	start, err := strconv.ParseUint(fields[startField], 10, 64)
	if err != nil {
		return stat{}, false
	}
	return stat{zombie: fields[0] == "Z" || fields[0] == "X", start: start}, true
}
