package ecstest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// serverDetail is the ShowServer body with the fields a client of the cold
// migration API reads and a realistic set of the others.
type serverDetail struct {
	ID                  string            `json:"id"`
	Name                string            `json:"name"`
	Status              string            `json:"status"`
	VMState             string            `json:"OS-EXT-STS:vm_state"`
	TaskState           *string           `json:"OS-EXT-STS:task_state"`
	PowerState          int               `json:"OS-EXT-STS:power_state"`
	Locked              bool              `json:"locked"`
	Metadata            map[string]string `json:"metadata"`
	Flavor              flavorWire        `json:"flavor"`
	SchedulerHints      schedulerHints    `json:"os:scheduler_hints"`
	AvailabilityZone    string            `json:"OS-EXT-AZ:availability_zone"`
	HostID              string            `json:"hostId"`
	Host                string            `json:"OS-EXT-SRV-ATTR:host"`
	HypervisorHostname  string            `json:"OS-EXT-SRV-ATTR:hypervisor_hostname"`
	InstanceName        string            `json:"OS-EXT-SRV-ATTR:instance_name"`
	HostStatus          string            `json:"host_status"`
	TenantID            string            `json:"tenant_id"`
	UserID              string            `json:"user_id"`
	Created             string            `json:"created"`
	Updated             string            `json:"updated"`
	LaunchedAt          string            `json:"OS-SRV-USG:launched_at"`
	TerminatedAt        string            `json:"OS-SRV-USG:terminated_at"`
	Progress            int               `json:"progress"`
	DiskConfig          string            `json:"OS-DCF:diskConfig"`
	Addresses           map[string]any    `json:"addresses"`
	Image               imageRef          `json:"image"`
	KeyName             string            `json:"key_name"`
	Description         string            `json:"description"`
	Tags                []string          `json:"tags"`
	EnterpriseProjectID string            `json:"enterprise_project_id"`
}

// flavorWire carries the flavor with every number as a string, as the API
// does.
type flavorWire struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Disk             string `json:"disk"`
	VCPUs            string `json:"vcpus"`
	RAM              string `json:"ram"`
	GPUs             []any  `json:"gpus"`
	ASICAccelerators []any  `json:"asic_accelerators"`
}

// schedulerHints encodes as {} for a server in the public pool.
type schedulerHints struct {
	Group           []string `json:"group,omitempty"`
	Tenancy         []string `json:"tenancy,omitempty"`
	DedicatedHostID []string `json:"dedicated_host_id,omitempty"`
}

type imageRef struct {
	ID string `json:"id"`
}

// render re-encodes the server's detail object and its ShowServer answer,
// {"server": detail}.
func (sv *server) render() {
	d := serverDetail{
		ID: sv.id, Name: sv.name, Status: sv.status, VMState: sv.vmState, TaskState: nullable(sv.taskState),
		PowerState: sv.powerState, Locked: sv.locked,
		Metadata: map[string]string{
			"charging_mode": sv.chargingMode,
			"EcmResStatus":  "normal",
			"os_type":       "Linux",
			"image_name":    "sim-image",
		},
		Flavor: flavorWire{
			ID: sv.flavorID, Name: sv.flavorID, Disk: "0", VCPUs: strconv.Itoa(sv.vcpus), RAM: strconv.Itoa(sv.ramMB),
			GPUs: []any{}, ASICAccelerators: []any{},
		},
		AvailabilityZone: sv.zone, HostID: hostHash(sv.projectID, sv.physicalHost),
		Host: sv.physicalHost, HypervisorHostname: sv.physicalHost + ".sim", InstanceName: "instance-" + sv.id[:min(8, len(sv.id))],
		HostStatus: "UP", TenantID: sv.projectID, UserID: "simulated-user",
		Created: sv.created.UTC().Format(time.RFC3339), Updated: sv.updated.UTC().Format(time.RFC3339),
		LaunchedAt: sv.created.UTC().Format("2006-01-02T15:04:05.000000"), DiskConfig: "MANUAL",
		Addresses: map[string]any{}, Tags: []string{}, EnterpriseProjectID: "0",
	}
	if sv.hostID != "" {
		d.SchedulerHints = schedulerHints{DedicatedHostID: []string{sv.hostID}, Tenancy: []string{"dedicate"}}
	}
	if sv.locked {
		d.Metadata["lockSource"] = "ORDER"
		d.Metadata["lockScene"] = "TO_PERIOD_LOCK"
	}
	sv.detail, _ = json.Marshal(d) // strings, numbers and empty containers only
	sv.body = make([]byte, 0, len(`{"server":}`)+len(sv.detail))
	sv.body = append(append(append(sv.body, `{"server":`...), sv.detail...), '}')
}

// missingDetail is the entry ListServersDetails gives for an id the project
// has no server with: the id, a fault, and every other field of
// [serverDetail] null, as the API documents.
func missingDetail(id string) []byte {
	b := make([]byte, 0, 2*len(id)+len(missingFields)+96)
	b = append(b, `{"id":"`...)
	b = append(b, id...) // a checked UUID: nothing to escape
	b = append(b, `","fault":{"code":404,"message":"Instance[`...)
	b = append(b, id...)
	b = append(b, `] could not be found."}`...)
	b = append(b, missingFields...)
	return append(b, '}')
}

// missingFields is `,"name":null,"status":null,…` for every field of
// serverDetail but id, so that a field added to the server's answer is null
// in a missing server's entry too.
var missingFields = func() string {
	var b strings.Builder
	t := reflect.TypeFor[serverDetail]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "id" || name == "" || name == "-" {
			continue
		}
		b.WriteString(`,"` + name + `":null`)
	}
	return b.String()
}()

// hostHash returns the 56-hex hostId of a physical host as seen from a
// project.
func hostHash(projectID, physicalHost string) string {
	sum := sha256.Sum224([]byte(projectID + "/" + physicalHost))
	return hex.EncodeToString(sum[:])
}
