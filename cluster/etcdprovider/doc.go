// Package etcdprovider holds the tests of Arbor's membership over
// protoactor's etcd cluster provider, against an embedded etcd. They live
// apart from package cluster because the provider never closes the etcd
// client it creates (etcd_provider.go:43-56, 116-131): its lease and gRPC
// goroutines outlive every member, and this package's leak check has to
// ignore them, which package cluster's must not.
package etcdprovider
