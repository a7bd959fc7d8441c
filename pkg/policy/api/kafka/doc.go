// SPDX-License-Identifier: Apache-2.0

// Package kafka is the Kafka part of Cilium's network policy: a PortRule says
// which Kafka requests an L7 rule on a port allows, by request type (API key),
// request version, client id and topic. Cilium's agent validates rules with
// Sanitize and turns them into NPDS KafkaNetworkPolicyRule messages with
// GetAPIKeys and GetAPIVersion.
//
// The markers below feed Cilium's code and schema generators (OpenAPI and
// DeepEqual), which read this package when Cilium vendors it.
//
// +k8s:openapi-gen=true
// +deepequal-gen=package
// +groupName=policy
package kafka
