package auth

import (
	"fmt"
	"slices"
)

// Role is what a user account is for. Every account has exactly one.
type Role string

// The roles of the device (issue 4).
const (
	// RoleClinician works with the clinical application: sees the device
	// status, changes their own password.
	RoleClinician Role = "clinician"
	// RoleTechnician is hospital biomedical engineering: reads status, logs
	// and health, but changes no security setting.
	RoleTechnician Role = "technician"
	// RoleAdmin is the hospital's device administrator: everything.
	RoleAdmin Role = "admin"
	// RoleService is the maker's service engineer: status, logs, software.
	RoleService Role = "service"
)

// Roles lists every role in a stable order.
var Roles = []Role{RoleClinician, RoleTechnician, RoleAdmin, RoleService}

// ParseRole accepts the name of a role.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(Roles, r) {
		return "", fmt.Errorf("unknown role %q (want one of clinician, technician, admin, service)", s)
	}
	return r, nil
}

// Permission names one kind of action. Every route of the API declares the
// one it needs (deny by default, IEC 62443-4-2 CR 2.1).
type Permission string

// Permissions. PermPublic is the only one that needs no authentication.
const (
	// PermPublic: no authentication (login, setup, unauthenticated status,
	// the console's static files).
	PermPublic Permission = "public"
	// PermSelf: any authenticated user acting on their own session or
	// password.
	PermSelf Permission = "self"
	// PermStatusRead: the full device status and boot report.
	PermStatusRead Permission = "status.read"
	// PermLogsRead: the security event log.
	PermLogsRead Permission = "logs.read"
	// PermHealthRead: the system health figures.
	PermHealthRead Permission = "health.read"
	// PermNotificationsRead: notifications and their recommended actions.
	PermNotificationsRead Permission = "notifications.read"
	// PermConfigRead: the clinical configuration's versions.
	PermConfigRead Permission = "config.read"
	// PermUsersRead: the list of accounts.
	PermUsersRead Permission = "users.read"
	// PermUsersManage: create, disable, delete accounts, change roles,
	// reset passwords. Critical.
	PermUsersManage Permission = "users.manage"
	// PermSessionsManage: list and end other users' sessions. Critical.
	PermSessionsManage Permission = "sessions.manage"
	// PermKeysManage: device keys and certificates. Critical.
	PermKeysManage Permission = "keys.manage"
	// PermSoftwareManage: install updates, roll back. Critical.
	PermSoftwareManage Permission = "software.manage"
	// PermNetworkManage: listeners, allowlists, firewall. Critical.
	PermNetworkManage Permission = "network.manage"
	// PermLogsManage: log forwarding, checkpoints, export. Critical.
	PermLogsManage Permission = "logs.manage"
	// PermConfigManage: import and change the clinical configuration.
	// Critical.
	PermConfigManage Permission = "config.manage"
	// PermNotificationsManage: acknowledge notifications, configure sinks.
	PermNotificationsManage Permission = "notifications.manage"
)

// Permissions lists every permission in a stable order.
var Permissions = []Permission{
	PermPublic, PermSelf, PermStatusRead, PermLogsRead, PermHealthRead,
	PermNotificationsRead, PermConfigRead, PermUsersRead, PermUsersManage,
	PermSessionsManage, PermKeysManage, PermSoftwareManage, PermNetworkManage,
	PermLogsManage, PermConfigManage, PermNotificationsManage,
}

// Valid reports whether p is a defined permission.
func (p Permission) Valid() bool { return slices.Contains(Permissions, p) }

// Critical reports whether p needs a recent authentication: users, keys,
// software, network and logs (issue 4, item 7; ARCHITECTURE.md principle 10).
func (p Permission) Critical() bool {
	switch p {
	case PermUsersManage, PermSessionsManage, PermKeysManage, PermSoftwareManage,
		PermNetworkManage, PermLogsManage, PermConfigManage:
		return true
	}
	return false
}

// grants is the authorization table: what each role may do. Anything not
// listed is denied.
var grants = map[Role][]Permission{
	RoleClinician: {PermSelf, PermStatusRead, PermNotificationsRead},
	RoleTechnician: {PermSelf, PermStatusRead, PermNotificationsRead, PermLogsRead,
		PermHealthRead, PermConfigRead},
	RoleService: {PermSelf, PermStatusRead, PermNotificationsRead, PermLogsRead,
		PermHealthRead, PermConfigRead, PermSoftwareManage},
	RoleAdmin: {PermSelf, PermStatusRead, PermNotificationsRead, PermLogsRead,
		PermHealthRead, PermConfigRead, PermUsersRead, PermUsersManage,
		PermSessionsManage, PermKeysManage, PermSoftwareManage, PermNetworkManage,
		PermLogsManage, PermConfigManage, PermNotificationsManage},
}

// Allows reports whether role r grants permission p. PermPublic is granted
// to everybody, authenticated or not.
func (r Role) Allows(p Permission) bool {
	if p == PermPublic {
		return true
	}
	return slices.Contains(grants[r], p)
}

// Grants returns the permissions of r, PermPublic excluded.
func (r Role) Grants() []Permission { return slices.Clone(grants[r]) }
