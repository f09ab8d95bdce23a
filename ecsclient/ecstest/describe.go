package ecstest

import "fmt"

// String summarises the simulator's inventory; it never shows credentials.
func (s *Simulator) String() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fmt.Sprintf("ecstest.Simulator{Projects:%d Servers:%d DedicatedHosts:%d Jobs:%d}",
		len(s.projects), len(s.servers), len(s.hosts), len(s.jobs))
}

// GoString is [Simulator.String].
func (s *Simulator) GoString() string { return s.String() }

// String describes the server by its URL and default project; it never
// shows credentials.
func (s *Server) String() string {
	return fmt.Sprintf("ecstest.Server{URL:%s ProjectID:%s}", s.URL, s.projectID)
}

// GoString is [Server.String].
func (s *Server) GoString() string { return s.String() }
