// Command arbor-certs writes a CA and certificates for Arbor's mutual TLS
// (package mtls) into a directory: ca.pem and ca-key.pem, and <name>.pem and
// <name>-key.pem for each name given. Every certificate serves as both
// server and client certificate and names the hosts of --hosts, which must
// cover every address peers dial (advertised addresses).
//
//	arbor-certs --dir certs --hosts 10.0.0.1,node1.internal node1 node2 client
//	node --listen 0.0.0.0:6880 --advertise 10.0.0.1:6880 \
//	    --cacert certs/ca.pem --cert certs/node1.pem --key certs/node1-key.pem
//
// It is meant for tests, demos and small deployments; a production
// deployment may issue the same shape of certificates from its own CA.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/arbor-db/arbor/mtls"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("arbor-certs", flag.ContinueOnError)
	dir := fs.String("dir", "certs", "directory to write the CA and certificates into")
	hosts := fs.String("hosts", "localhost,127.0.0.1,::1", "comma-separated DNS names and IP addresses every certificate names")
	validFor := fs.Duration("valid-for", 365*24*time.Hour, "how long the certificates are valid")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: arbor-certs [flags] name...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "arbor-certs: name at least one party (node1, client, ...)")
		return 2
	}
	files, err := mtls.Generate(mtls.GenerateConfig{
		Dir: *dir, Names: fs.Args(), Hosts: strings.Split(*hosts, ","), Now: time.Now(), ValidFor: *validFor,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "arbor-certs: %v\n", err)
		return 1
	}
	for _, name := range fs.Args() {
		f := files[name]
		fmt.Printf("%s: --cacert %s --cert %s --key %s\n", name, f.CACert, f.Cert, f.Key)
	}
	return 0
}
