// Hand-written: `nox -s api` never writes or removes this file (it has no
// "Code generated ... DO NOT EDIT." line).

package cilium

// IsLogEntry_L7 names the interface that every choice of LogEntry's l7 oneof
// implements (*LogEntry_Http, *LogEntry_Kafka, *LogEntry_GenericL7).
// protoc-gen-go leaves that interface unexported; this alias lets code outside
// the package accept or store any of them without listing them.
type IsLogEntry_L7 = isLogEntry_L7
