package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Policy decides which receivers the service may call (server-side request forgery protection). The
// same checks run when an endpoint is created or changed, on the URL's resolved addresses, and when an
// attempt connects, on the address actually dialled, so a name that resolves elsewhere later (DNS
// rebinding) is refused at connect time.
type Policy struct {
	// RequireHTTPS refuses http:// URLs (production).
	RequireHTTPS bool
	// AllowPrivate admits loopback and private receivers (WEBHOOKS_ALLOW_PRIVATE_NETWORKS, development and
	// tests only). Link-local addresses (the cloud metadata service among them), multicast and the
	// unspecified address stay refused.
	AllowPrivate bool
}

// Resolver looks host names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ErrBlocked is an address the policy refuses.
var ErrBlocked = errors.New("address not allowed")

// MaxURLLen bounds an endpoint URL (the spec's maxLength).
const MaxURLLen = 2048

// metadata is the cloud instance metadata address (AWS, GCP, Azure...), named here even though the
// link-local rule already covers it, because it is the address SSRF attacks aim for.
var metadata = netip.MustParseAddr("169.254.169.254")

// Non-public IPv4 ranges netip has no predicate for: "this network", carrier-grade NAT, IETF protocol
// assignments, benchmarking and the reserved block (with the broadcast address).
var reservedV4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

// nat64 embeds an IPv4 address in its last 32 bits; the embedded address decides.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Allowed reports whether the service may connect to ip, and why not.
func (p Policy) Allowed(ip netip.Addr) error {
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	switch {
	case !ip.IsValid():
		return fmt.Errorf("%w: invalid address", ErrBlocked)
	case ip == metadata:
		return fmt.Errorf("%w: %s is the cloud metadata address", ErrBlocked, ip)
	case ip.IsUnspecified():
		return fmt.Errorf("%w: %s is unspecified", ErrBlocked, ip)
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return fmt.Errorf("%w: %s is link-local", ErrBlocked, ip)
	case ip.IsMulticast() || ip.IsInterfaceLocalMulticast():
		return fmt.Errorf("%w: %s is multicast", ErrBlocked, ip)
	}
	if ip.Is4() {
		for _, r := range reservedV4 {
			if r.Contains(ip) {
				return fmt.Errorf("%w: %s is reserved", ErrBlocked, ip)
			}
		}
	}
	switch {
	case p.AllowPrivate:
		return nil
	case ip.IsLoopback():
		return fmt.Errorf("%w: %s is loopback", ErrBlocked, ip)
	case ip.IsPrivate():
		return fmt.Errorf("%w: %s is private", ErrBlocked, ip)
	}
	return nil
}

// ParseURL checks an endpoint URL's form: absolute http(s) (https when required) with a host, no
// credentials, no fragment.
func (p Policy) ParseURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLen {
		return nil, fmt.Errorf("must be at most %d characters", MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("must be an absolute URL with a host")
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, errors.New("must be an http or https URL")
	case p.RequireHTTPS && u.Scheme != "https":
		return nil, errors.New("must be an https URL")
	case u.User != nil:
		return nil, errors.New("must not carry credentials")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, errors.New("must not have a fragment")
	}
	return u, nil
}

// resolveTimeout bounds the lookup a create or update makes.
const resolveTimeout = 5 * time.Second

// CheckURL checks the URL's form and that every address its host resolves to is allowed.
func (p Policy) CheckURL(ctx context.Context, r Resolver, raw string) error {
	u, err := p.ParseURL(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.Allowed(ip)
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return fmt.Errorf("host %s does not resolve", host)
	}
	for _, ip := range ips {
		if err := p.Allowed(ip); err != nil {
			return err
		}
	}
	return nil
}
