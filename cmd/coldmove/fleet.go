package main

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
)

// fleetJSON is the simulator's default fleet: a project with three
// dedicated hosts and servers stopped, running, prepaid and locked — the
// servers of the demo's stories and of the sample events in
// functions/migrate/testdata.
//
//go:embed fleet.json
var fleetJSON []byte

// loadFleet reads a seed file, or the default fleet when path is "", and
// adds a generated credential when the seed names none.
func loadFleet(path string) (ecstest.Config, error) {
	data := fleetJSON
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return ecstest.Config{}, fmt.Errorf("read seed: %w", err)
		}
	}
	cfg, err := ecstest.ParseSeed(data)
	if err != nil {
		return ecstest.Config{}, err
	}
	if len(cfg.Credentials) == 0 {
		cfg.Credentials = []ecstest.Credential{ecstest.GenerateCredential()}
	}
	return cfg, nil
}

// names maps every id of a fleet to its name.
func names(inv ecstest.Inventory) map[string]string {
	m := map[string]string{}
	for _, p := range inv.Projects {
		for _, h := range p.DedicatedHosts {
			m[h.ID] = h.Name
		}
		for _, s := range p.Servers {
			m[s.ID] = s.Name
		}
	}
	return m
}

// printFleet writes the ids of a fleet, host by host and server by server,
// so that people can name them in requests.
func printFleet(w io.Writer, inv ecstest.Inventory) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range inv.Projects {
		fmt.Fprintf(tw, "# project %s (%s)\n", p.ID, p.Name)
		fmt.Fprintln(tw, "#   DEDICATED HOST\tNAME\tVCPUS\tMEMORY MB")
		for _, h := range p.DedicatedHosts {
			fmt.Fprintf(tw, "#   %s\t%s\t%d\t%d\n", h.ID, h.Name, h.VCPUs, h.MemoryMB)
		}
		fmt.Fprintln(tw, "#   SERVER\tNAME\tSTATE\tPLACEMENT")
		hosts := names(ecstest.Inventory{Projects: []ecstest.ProjectSpec{p}})
		for _, s := range p.Servers {
			state := s.Status
			if state == "" {
				state = ecstest.StatusShutoff
			}
			switch {
			case s.Locked:
				state += ", locked"
			case s.ChargingMode == ecstest.ChargingPrepaid:
				state += ", prepaid"
			case s.ChargingMode == ecstest.ChargingSpot:
				state += ", spot"
			}
			where := "public pool"
			if s.DedicatedHostID != "" {
				where = hosts[s.DedicatedHostID]
			}
			fmt.Fprintf(tw, "#   %s\t%s\t%s\t%s\n", s.ID, s.Name, state, where)
		}
	}
	_ = tw.Flush()
}
