// SPDX-License-Identifier: Apache-2.0

package kafka

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// PortRule allows the Kafka requests that match every field it sets; a rule
// with no field set allows every request.
type PortRule struct {
	// Role allows the requests a client needs for one job, "produce" or
	// "consume" (in any case): it stands for the API keys GetAPIKeys lists
	// for it. A rule sets Role or APIKey, not both; with neither, every
	// request type is allowed.
	//
	// +kubebuilder:validation:Enum=produce;consume
	// +kubebuilder:validation:Optional
	Role string `json:"role,omitempty"`

	// APIKey allows one request type, by its name in Kafka's protocol
	// written in lower case (any case is accepted), such as "produce",
	// "fetch", "metadata" or "createtopics": a key of APIKeyMap.
	//
	// +kubebuilder:validation:Optional
	APIKey string `json:"apiKey,omitempty"`

	// APIVersion allows only this version of the request, a decimal number
	// from 0 to 32767. Empty allows every version.
	//
	// +kubebuilder:validation:Optional
	APIVersion string `json:"apiVersion,omitempty"`

	// ClientID allows only requests whose client id, the free-form name a
	// client application gives itself in every request, is this one. Empty
	// allows every client.
	//
	// +kubebuilder:validation:Optional
	ClientID string `json:"clientID,omitempty"`

	// Topic allows only requests about this topic; a request that names
	// several topics is allowed only when each of them is. Requests that name
	// no topic are not restricted by it. Kafka topic names are made of ASCII
	// letters, digits, '.', '_' and '-'; Kafka limits them to 249
	// characters, and 255 (the limit of Kafka before 0.10) is accepted here.
	// Empty allows every topic.
	//
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:Optional
	Topic string `json:"topic,omitempty"`
}

// API keys of Kafka's protocol: the number that heads every request and says
// what kind of request it is. These request types carry topic names.
const (
	ProduceKey              = 0
	FetchKey                = 1
	OffsetsKey              = 2 // ListOffsets
	MetadataKey             = 3
	LeaderAndIsr            = 4
	StopReplica             = 5
	UpdateMetadata          = 6
	OffsetCommitKey         = 8
	OffsetFetchKey          = 9
	FindCoordinatorKey      = 10
	JoinGroupKey            = 11
	CreateTopicsKey         = 19
	DeleteTopicsKey         = 20
	DeleteRecordsKey        = 21
	OffsetForLeaderEpochKey = 23
	AddPartitionsToTxnKey   = 24
	WriteTxnMarkersKey      = 27
	TxnOffsetCommitKey      = 28
	AlterReplicaLogDirsKey  = 34
	DescribeLogDirsKey      = 35
	CreatePartitionsKey     = 37
)

// API keys of request types that carry no topic.
const (
	HeartbeatKey   = 12
	LeaveGroupKey  = 13
	SyncgroupKey   = 14
	APIVersionsKey = 18
)

// Roles a PortRule may name.
const (
	ProduceRole = "produce"
	ConsumeRole = "consume"
)

// MaxTopicLen is the longest topic name a rule accepts.
const (
	MaxTopicLen = 255
)

// requestTypes names Kafka's request types by API key, from 0 to 33: the
// names a rule's APIKey may use, and how ApiKeyToString prints a key.
var requestTypes = [...]string{
	"produce", "fetch", "offsets", "metadata", "leaderandisr", "stopreplica",
	"updatemetadata", "controlledshutdown", "offsetcommit", "offsetfetch",
	"findcoordinator", "joingroup", "heartbeat", "leavegroup", "syncgroup",
	"describegroups", "listgroups", "saslhandshake", "apiversions",
	"createtopics", "deletetopics", "deleterecords", "initproducerid",
	"offsetforleaderepoch", "addpartitionstotxn", "addoffsetstotxn", "endtxn",
	"writetxnmarkers", "txnoffsetcommit", "describeacls", "createacls",
	"deleteacls", "describeconfigs", "alterconfigs",
}

// APIKeyMap maps the request type names a rule may use to their API keys.
var APIKeyMap = func() map[string]int16 {
	keys := make(map[string]int16, len(requestTypes))
	for key, name := range requestTypes {
		keys[name] = int16(key)
	}
	return keys
}()

// ReverseAPIKeyMap maps API keys back to the names in APIKeyMap.
var ReverseAPIKeyMap = func() map[int16]string {
	names := make(map[int16]string, len(requestTypes))
	for key, name := range requestTypes {
		names[int16(key)] = name
	}
	return names
}()

// roleKeys lists, in ascending order, the request types a role allows: a
// producer looks up partition leaders and versions, then produces; a consumer
// in a group also finds its coordinator, joins and syncs the group, sends
// heartbeats, fetches, and commits and reads its offsets.
var roleKeys = map[string][]int32{
	ProduceRole: {ProduceKey, MetadataKey, APIVersionsKey},
	ConsumeRole: {
		FetchKey, OffsetsKey, MetadataKey, OffsetCommitKey, OffsetFetchKey,
		FindCoordinatorKey, JoinGroupKey, HeartbeatKey, LeaveGroupKey,
		SyncgroupKey, APIVersionsKey,
	},
}

// TopicValidChar matches the topic names Kafka allows, by their characters.
var TopicValidChar = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// ApiKeyToString names an API key as APIKeyMap does, or gives its number for
// a key that has no name there.
func ApiKeyToString(apiKey int16) string {
	if name, ok := ReverseAPIKeyMap[apiKey]; ok {
		return name
	}
	return strconv.Itoa(int(apiKey))
}

// parseVersion reads an APIVersion: ok is false unless it is a number from 0
// to 32767 (the range of Kafka's int16 request versions).
func parseVersion(version string) (int16, bool) {
	n, err := strconv.ParseInt(version, 10, 16)
	if err != nil || n < 0 {
		return 0, false
	}
	return int16(n), true
}

// Sanitize returns an error naming the first field of the rule that Kafka or
// this package would not accept, or nil.
func (kr *PortRule) Sanitize() error {
	if kr.Role != "" && kr.APIKey != "" {
		return fmt.Errorf("a Kafka rule sets either a role or an API key: it has role %q and apiKey %q", kr.Role, kr.APIKey)
	}
	if kr.APIKey != "" {
		if _, ok := APIKeyMap[strings.ToLower(kr.APIKey)]; !ok {
			return fmt.Errorf("kafka apiKey %q names no Kafka request type", kr.APIKey)
		}
	}
	if kr.Role != "" {
		if _, ok := roleKeys[strings.ToLower(kr.Role)]; !ok {
			return fmt.Errorf("kafka role %q is neither %q nor %q", kr.Role, ProduceRole, ConsumeRole)
		}
	}
	if kr.APIVersion != "" {
		if _, ok := parseVersion(kr.APIVersion); !ok {
			return fmt.Errorf("kafka apiVersion %q is not a number from 0 to 32767", kr.APIVersion)
		}
	}
	if kr.Topic != "" {
		if len(kr.Topic) > MaxTopicLen {
			return fmt.Errorf("kafka topic has %d characters, more than the %d allowed", len(kr.Topic), MaxTopicLen)
		}
		if !TopicValidChar.MatchString(kr.Topic) || kr.Topic == "." || kr.Topic == ".." {
			return fmt.Errorf("kafka topic %q is not a topic name: use ASCII letters, digits, '.', '_' and '-'", kr.Topic)
		}
	}
	return nil
}

// GetAPIVersion returns the request version the rule allows, or -1 when it
// allows every version. The rule must have passed Sanitize: an APIVersion
// that is not a version makes it panic.
func (kr *PortRule) GetAPIVersion() int32 {
	if kr.APIVersion == "" {
		return -1
	}
	version, ok := parseVersion(kr.APIVersion)
	if !ok {
		panic(fmt.Sprintf("kafka.PortRule.GetAPIVersion on a rule that fails Sanitize: apiVersion %q", kr.APIVersion))
	}
	return int32(version)
}

// GetAPIKeys returns the API keys the rule allows (those of its role, or its
// one API key), or nil when it allows every request type. Each call returns a
// new slice.
func (kr *PortRule) GetAPIKeys() []int32 {
	if keys, ok := roleKeys[strings.ToLower(kr.Role)]; ok {
		return append([]int32(nil), keys...)
	}
	if kr.APIKey != "" {
		if key, ok := APIKeyMap[strings.ToLower(kr.APIKey)]; ok {
			return []int32{int32(key)}
		}
	}
	return nil
}

// Exists tells whether rules holds a rule equal to k.
func (k *PortRule) Exists(rules []PortRule) bool {
	for i := range rules {
		if rules[i] == *k {
			return true
		}
	}
	return false
}

// DeepEqual tells whether other is a rule with the same fields as in; in must
// not be nil.
func (in *PortRule) DeepEqual(other *PortRule) bool {
	return other != nil && *in == *other
}
