// SPDX-License-Identifier: Apache-2.0

package kafka

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The API keys of Kafka's protocol (its request header's api_key), written
// down here independently of the package's own tables.
var protocolKeys = []struct {
	name string
	key  int16
}{
	{"produce", 0}, {"fetch", 1}, {"offsets", 2}, {"metadata", 3},
	{"leaderandisr", 4}, {"stopreplica", 5}, {"updatemetadata", 6},
	{"controlledshutdown", 7}, {"offsetcommit", 8}, {"offsetfetch", 9},
	{"findcoordinator", 10}, {"joingroup", 11}, {"heartbeat", 12},
	{"leavegroup", 13}, {"syncgroup", 14}, {"describegroups", 15},
	{"listgroups", 16}, {"saslhandshake", 17}, {"apiversions", 18},
	{"createtopics", 19}, {"deletetopics", 20}, {"deleterecords", 21},
	{"initproducerid", 22}, {"offsetforleaderepoch", 23},
	{"addpartitionstotxn", 24}, {"addoffsetstotxn", 25}, {"endtxn", 26},
	{"writetxnmarkers", 27}, {"txnoffsetcommit", 28}, {"describeacls", 29},
	{"createacls", 30}, {"deleteacls", 31}, {"describeconfigs", 32},
	{"alterconfigs", 33},
}

func TestConstantsAreKafkasAPIKeys(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"ProduceKey", ProduceKey, 0}, {"FetchKey", FetchKey, 1},
		{"OffsetsKey", OffsetsKey, 2}, {"MetadataKey", MetadataKey, 3},
		{"LeaderAndIsr", LeaderAndIsr, 4}, {"StopReplica", StopReplica, 5},
		{"UpdateMetadata", UpdateMetadata, 6}, {"OffsetCommitKey", OffsetCommitKey, 8},
		{"OffsetFetchKey", OffsetFetchKey, 9}, {"FindCoordinatorKey", FindCoordinatorKey, 10},
		{"JoinGroupKey", JoinGroupKey, 11}, {"HeartbeatKey", HeartbeatKey, 12},
		{"LeaveGroupKey", LeaveGroupKey, 13}, {"SyncgroupKey", SyncgroupKey, 14},
		{"APIVersionsKey", APIVersionsKey, 18}, {"CreateTopicsKey", CreateTopicsKey, 19},
		{"DeleteTopicsKey", DeleteTopicsKey, 20}, {"DeleteRecordsKey", DeleteRecordsKey, 21},
		{"OffsetForLeaderEpochKey", OffsetForLeaderEpochKey, 23},
		{"AddPartitionsToTxnKey", AddPartitionsToTxnKey, 24},
		{"WriteTxnMarkersKey", WriteTxnMarkersKey, 27},
		{"TxnOffsetCommitKey", TxnOffsetCommitKey, 28},
		{"AlterReplicaLogDirsKey", AlterReplicaLogDirsKey, 34},
		{"DescribeLogDirsKey", DescribeLogDirsKey, 35},
		{"CreatePartitionsKey", CreatePartitionsKey, 37},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, Kafka's protocol says %d", tc.name, tc.got, tc.want)
		}
	}
	if ProduceRole != "produce" || ConsumeRole != "consume" || MaxTopicLen != 255 {
		t.Errorf("roles %q %q, MaxTopicLen %d", ProduceRole, ConsumeRole, MaxTopicLen)
	}
}

func TestKeyMapsNameEveryKeyOnce(t *testing.T) {
	if len(APIKeyMap) != len(protocolKeys) || len(ReverseAPIKeyMap) != len(protocolKeys) {
		t.Fatalf("APIKeyMap has %d names, ReverseAPIKeyMap %d keys; want %d",
			len(APIKeyMap), len(ReverseAPIKeyMap), len(protocolKeys))
	}
	for _, pk := range protocolKeys {
		if key, ok := APIKeyMap[pk.name]; !ok || key != pk.key {
			t.Errorf("APIKeyMap[%q] = %d, %v; want %d", pk.name, key, ok, pk.key)
		}
		if name := ReverseAPIKeyMap[pk.key]; name != pk.name {
			t.Errorf("ReverseAPIKeyMap[%d] = %q; want %q", pk.key, name, pk.name)
		}
	}
}

func TestApiKeyToString(t *testing.T) {
	for _, tc := range []struct {
		key  int16
		want string
	}{
		{0, "produce"}, {1, "fetch"}, {14, "syncgroup"}, {18, "apiversions"},
		{33, "alterconfigs"}, {34, "34"}, {37, "37"}, {-1, "-1"}, {32767, "32767"},
	} {
		if got := ApiKeyToString(tc.key); got != tc.want {
			t.Errorf("ApiKeyToString(%d) = %q; want %q", tc.key, got, tc.want)
		}
	}
}

func TestSanitize(t *testing.T) {
	long := strings.Repeat("t", MaxTopicLen)
	for _, tc := range []struct {
		name string
		rule PortRule
		err  string // part of the error; "" for a valid rule
	}{
		{"empty rule allows everything", PortRule{}, ""},
		{"produce role", PortRule{Role: "produce", Topic: "orders"}, ""},
		{"role in any case", PortRule{Role: "CONSUME"}, ""},
		{"api key", PortRule{APIKey: "fetch"}, ""},
		{"api key in any case", PortRule{APIKey: "OffsetForLeaderEpoch"}, ""},
		{"last named key", PortRule{APIKey: "alterconfigs"}, ""},
		{"version 0", PortRule{APIKey: "produce", APIVersion: "0"}, ""},
		{"largest version", PortRule{APIVersion: "32767"}, ""},
		{"client id is free-form", PortRule{ClientID: "billing app/2 ✓"}, ""},
		{"topic characters", PortRule{Topic: "Deathstar-plans_v2.1"}, ""},
		{"topic of the longest length", PortRule{Topic: long}, ""},

		{"role and api key", PortRule{Role: "produce", APIKey: "produce"}, `role "produce" and apiKey "produce"`},
		{"unknown api key", PortRule{APIKey: "createtopic"}, `apiKey "createtopic"`},
		{"key without a name here", PortRule{APIKey: "createpartitions"}, `apiKey "createpartitions"`},
		{"api key given as a number", PortRule{APIKey: "1"}, `apiKey "1"`},
		{"unknown role", PortRule{Role: "admin"}, `role "admin"`},
		{"negative version", PortRule{APIVersion: "-1"}, `apiVersion "-1"`},
		{"version beyond int16", PortRule{APIVersion: "32768"}, `apiVersion "32768"`},
		{"version that is no number", PortRule{APIVersion: "v2"}, `apiVersion "v2"`},
		{"version with blanks", PortRule{APIVersion: " 2"}, `apiVersion " 2"`},
		{"topic too long", PortRule{Topic: long + "t"}, "256 characters"},
		{"topic with a slash", PortRule{Topic: "a/b"}, `topic "a/b"`},
		{"topic with a blank", PortRule{Topic: "a b"}, `topic "a b"`},
		{"topic with a backslash", PortRule{Topic: `a\b`}, `topic "a\\b"`},
		{"topic with a non-ASCII letter", PortRule{Topic: "café"}, `topic "café"`},
		{"topic dot", PortRule{Topic: "."}, `topic "."`},
		{"topic dot dot", PortRule{Topic: ".."}, `topic ".."`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rule.Sanitize()
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Sanitize(%+v) = %v; want nil", tc.rule, err)
			case tc.err != "" && err == nil:
				t.Fatalf("Sanitize(%+v) = nil; want an error with %s", tc.rule, tc.err)
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Fatalf("Sanitize(%+v) = %q; want it to contain %s", tc.rule, err, tc.err)
			}
		})
	}
}

func TestGetAPIKeys(t *testing.T) {
	consume := []int32{1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 18}
	for _, tc := range []struct {
		name string
		rule PortRule
		want []int32
	}{
		{"every key", PortRule{}, nil},
		{"produce", PortRule{Role: "produce"}, []int32{0, 3, 18}},
		{"Produce", PortRule{Role: "Produce"}, []int32{0, 3, 18}},
		{"consume", PortRule{Role: "consume", Topic: "t"}, consume},
		{"CONSUME", PortRule{Role: "CONSUME"}, consume},
		{"one key", PortRule{APIKey: "heartbeat"}, []int32{12}},
		{"one key, upper case", PortRule{APIKey: "DeleteTopics"}, []int32{20}},
		{"unknown key", PortRule{APIKey: "nosuch"}, nil},
		{"unknown role", PortRule{Role: "admin"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rule.GetAPIKeys(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("GetAPIKeys(%+v) = %v; want %v", tc.rule, got, tc.want)
			}
		})
	}
	// Each call hands out its own slice.
	rule := PortRule{Role: ProduceRole}
	rule.GetAPIKeys()[0] = 99
	if got := rule.GetAPIKeys()[0]; got != ProduceKey {
		t.Fatalf("a caller's change showed in the next GetAPIKeys: %d", got)
	}
}

func TestGetAPIVersion(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    int32
	}{
		{"", -1}, {"0", 0}, {"7", 7}, {"010", 10}, {"32767", 32767},
	} {
		rule := PortRule{APIVersion: tc.version}
		if got := rule.GetAPIVersion(); got != tc.want {
			t.Errorf("GetAPIVersion(%q) = %d; want %d", tc.version, got, tc.want)
		}
	}
	for _, bad := range []string{"-1", "32768", "x"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("GetAPIVersion(%q) did not panic", bad)
				}
			}()
			rule := PortRule{APIVersion: bad}
			rule.GetAPIVersion()
		}()
	}
}

func TestExistsAndDeepEqual(t *testing.T) {
	a := PortRule{Role: "produce", Topic: "orders"}
	b := PortRule{APIKey: "fetch", ClientID: "c", APIVersion: "3"}
	rules := []PortRule{a, b}
	for _, tc := range []struct {
		rule PortRule
		want bool
	}{
		{a, true}, {b, true},
		{PortRule{Role: "produce"}, false},
		{PortRule{Role: "PRODUCE", Topic: "orders"}, false}, // fields compare exactly
		{PortRule{APIKey: "fetch", ClientID: "c", APIVersion: "3", Topic: "x"}, false},
	} {
		if got := tc.rule.Exists(rules); got != tc.want {
			t.Errorf("%+v.Exists = %v; want %v", tc.rule, got, tc.want)
		}
		if got := tc.rule.DeepEqual(&a) || tc.rule.DeepEqual(&b); got != tc.want {
			t.Errorf("%+v.DeepEqual = %v; want %v", tc.rule, got, tc.want)
		}
	}
	if (&PortRule{}).Exists(nil) {
		t.Error("a rule exists in an empty list")
	}
	if a.DeepEqual(nil) {
		t.Error("DeepEqual(nil) = true")
	}
}

func TestJSONFieldNames(t *testing.T) {
	rule := PortRule{Role: "consume", APIKey: "k", APIVersion: "1", ClientID: "c", Topic: "t"}
	data, err := json.Marshal(rule)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"role":"consume","apiKey":"k","apiVersion":"1","clientID":"c","topic":"t"}`
	if string(data) != want {
		t.Fatalf("json = %s; want %s", data, want)
	}
	if data, _ := json.Marshal(PortRule{}); string(data) != "{}" {
		t.Fatalf("an empty rule is %s; want {}", data)
	}
	var back PortRule
	if err := json.Unmarshal([]byte(want), &back); err != nil || back != rule {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}
