// Package integration runs the plugin against the real parts: a kube-apiserver and etcd
// (envtest), KWOK as the kubelet of a Node, the real kubectl and krew, and a real OpenSearch;
// the TestLiving* tests add the real scheduler, controller-manager and KServe controller.
//
// Its tests build only with the tag "integration": a plain go test ./... shows this package
// with no test files instead of passing them skipped. Run them with their parts:
//
//	make test-integration               # all of them
//	make test-integration RUN=TestX     # some, as go test -run selects them
package integration
