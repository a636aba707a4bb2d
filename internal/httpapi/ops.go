package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/apperr"
)

func (s *Server) GetHealth(context.Context, api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	return api.GetHealth200JSONResponse{Body: api.HealthStatus{Status: api.HealthStatusStatusOk}}, nil
}

func (s *Server) GetReadiness(ctx context.Context, _ api.GetReadinessRequestObject) (api.GetReadinessResponseObject, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	check := func(name string, p Pinger, down api.CheckStatus) api.CheckStatus {
		if p == nil {
			return api.CheckStatusDisabled
		}
		if err := p.Ping(ctx); err != nil {
			s.deps.Logger.WarnContext(ctx, "readiness check failed", "dependency", name, "error", err)
			return down
		}
		return api.CheckStatusOk
	}
	// PostgreSQL is required; Redis is not: without it the instance serves without cache and limits, so
	// taking every instance out of the load balancer because Redis is down would turn a degradation
	// into an outage.
	r := api.Readiness{}
	r.Checks.Postgres = check("postgres", s.deps.Postgres, api.CheckStatusUnavailable)
	r.Checks.Redis = check("redis", s.deps.Redis, api.CheckStatusDegraded)
	// Replicas, like Redis, degrade: their reads go to the primary meanwhile.
	if s.deps.Replicas != nil {
		st := api.CheckStatusOk
		if !s.deps.Replicas.Healthy() {
			st = api.CheckStatusDegraded
		}
		r.Checks.Replicas = &st
	}
	switch {
	case r.Checks.Postgres == api.CheckStatusUnavailable:
		r.Status = api.ReadinessStatusUnavailable
		return api.GetReadiness503JSONResponse{Body: r}, nil
	case r.Checks.Redis == api.CheckStatusDegraded, r.Checks.Replicas != nil && *r.Checks.Replicas == api.CheckStatusDegraded:
		r.Status = api.ReadinessStatusDegraded
	default:
		r.Status = api.ReadinessStatusOk
	}
	return api.GetReadiness200JSONResponse{Body: r}, nil
}

func (s *Server) GetMetrics(context.Context, api.GetMetricsRequestObject) (api.GetMetricsResponseObject, error) {
	if s.deps.MetricsElsewhere {
		return nil, apperr.NotFound("metrics endpoint (it is served on METRICS_ADDR)")
	}
	families, err := s.deps.Metrics.Registry.Gather()
	if err != nil {
		return nil, apperr.Internal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range families {
		if err := enc.Encode(mf); err != nil {
			return nil, apperr.Internal(err)
		}
	}
	return metricsResponse(buf.Bytes()), nil
}

type metricsResponse []byte

func (m metricsResponse) VisitGetMetricsResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(m)
	return err
}

func (s *Server) GetOpenapiYaml(context.Context, api.GetOpenapiYamlRequestObject) (api.GetOpenapiYamlResponseObject, error) {
	d, err := s.docs()
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return rawResponse{contentType: "application/yaml", body: d.YAML}, nil
}

func (s *Server) GetOpenapiJson(context.Context, api.GetOpenapiJsonRequestObject) (api.GetOpenapiJsonResponseObject, error) {
	d, err := s.docs()
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return rawResponse{contentType: "application/json", body: d.JSON}, nil
}

func (s *Server) GetDocs(context.Context, api.GetDocsRequestObject) (api.GetDocsResponseObject, error) {
	d, err := s.docs()
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return rawResponse{contentType: "text/html; charset=utf-8", body: d.HTML, csp: d.CSP}, nil
}

// rawResponse writes bytes prepared at start-up; the spec documents these bodies, and encoding them on
// every request would only cost time.
type rawResponse struct {
	contentType string
	body        []byte
	csp         string
}

func (r rawResponse) write(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", r.contentType)
	w.Header().Set("Cache-Control", "public, max-age=300")
	if r.csp != "" {
		w.Header().Set("Content-Security-Policy", r.csp)
	}
	w.WriteHeader(http.StatusOK)
	_, err := bytes.NewReader(r.body).WriteTo(w)
	return err
}

func (r rawResponse) VisitGetOpenapiYamlResponse(w http.ResponseWriter) error { return r.write(w) }
func (r rawResponse) VisitGetOpenapiJsonResponse(w http.ResponseWriter) error { return r.write(w) }
func (r rawResponse) VisitGetDocsResponse(w http.ResponseWriter) error        { return r.write(w) }
