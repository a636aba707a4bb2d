package httpapi

import (
	"context"
	"time"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/etag"
	"github.com/storefront/storefront/internal/orders"
	"github.com/storefront/storefront/internal/page"
)

func orderOK(o orders.Order) api.OrderOKJSONResponse {
	return api.OrderOKJSONResponse{Body: api.OrderResponse{Data: toAPIOrder(o)},
		Headers: api.OrderOKResponseHeaders{ETag: etag.Format(o.Version), CacheControl: privateRevalidate}}
}

func (s *Server) CreateOrder(ctx context.Context, req api.CreateOrderRequestObject) (api.CreateOrderResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	lines := make([]orders.Line, len(req.Body.Items))
	for i, it := range req.Body.Items {
		lines[i] = orders.Line{ProductID: it.ProductId, Quantity: it.Quantity}
	}
	o, err := s.deps.Orders.Place(ctx, p, lines, addressFromAPI(req.Body.ShippingAddress))
	if err != nil {
		return nil, err
	}
	return api.CreateOrder201JSONResponse{Body: api.OrderResponse{Data: toAPIOrder(o)},
		Headers: api.CreateOrder201ResponseHeaders{Location: "/v1/orders/" + o.ID.String()}}, nil
}

func (s *Server) GetOrder(ctx context.Context, req api.GetOrderRequestObject) (api.GetOrderResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	o, err := s.deps.Orders.Get(ctx, p, req.OrderId)
	if err != nil {
		return nil, err
	}
	return api.GetOrder200JSONResponse{OrderOKJSONResponse: orderOK(o)}, nil
}

func orderPage(status *api.OrderStatusFilter, sort *string, limit *int32, cursor *string, count *string) (orders.Status, page.Request) {
	return orders.Status(deref(status)), pageRequest(sort, limit, cursor, count)
}

func (s *Server) ListOrders(ctx context.Context, req api.ListOrdersRequestObject) (api.ListOrdersResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	prm := req.Params
	status, pr := orderPage(prm.Status, (*string)(prm.Sort), prm.Limit, prm.Cursor, (*string)(prm.Count))
	res, err := s.deps.Orders.List(ctx, p, status, pr)
	if err != nil {
		return nil, err
	}
	return api.ListOrders200JSONResponse{OrderListOKJSONResponse: orderList(res)}, nil
}

func (s *Server) ListUserOrders(ctx context.Context, req api.ListUserOrdersRequestObject) (api.ListUserOrdersResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	prm := req.Params
	status, pr := orderPage(prm.Status, (*string)(prm.Sort), prm.Limit, prm.Cursor, (*string)(prm.Count))
	res, err := s.deps.Orders.ListForUser(ctx, p, req.UserId, status, pr)
	if err != nil {
		return nil, err
	}
	return api.ListUserOrders200JSONResponse{OrderListOKJSONResponse: orderList(res)}, nil
}

func orderList(res page.Page[orders.Order]) api.OrderListOKJSONResponse {
	data := make([]api.Order, 0, len(res.Items))
	for _, o := range res.Items {
		data = append(data, toAPIOrder(o))
	}
	return api.OrderListOKJSONResponse{Body: api.OrderList{Data: data, Meta: toAPIMeta(res)},
		Headers: api.OrderListOKResponseHeaders{CacheControl: "private, no-store"}}
}

func (s *Server) PayOrder(ctx context.Context, req api.PayOrderRequestObject) (api.PayOrderResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	o, err := s.deps.Orders.Pay(ctx, p, req.OrderId, req.Body.PaymentMethod)
	if err != nil {
		return nil, err
	}
	return api.PayOrder200JSONResponse{OrderOKJSONResponse: orderOK(o)}, nil
}

func (s *Server) ShipOrder(ctx context.Context, req api.ShipOrderRequestObject) (api.ShipOrderResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	o, err := s.deps.Orders.Ship(ctx, p, req.OrderId, req.Body.Carrier, req.Body.TrackingNumber)
	if err != nil {
		return nil, err
	}
	return api.ShipOrder200JSONResponse{OrderOKJSONResponse: orderOK(o)}, nil
}

func (s *Server) DeliverOrder(ctx context.Context, req api.DeliverOrderRequestObject) (api.DeliverOrderResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	o, err := s.deps.Orders.Deliver(ctx, p, req.OrderId)
	if err != nil {
		return nil, err
	}
	return api.DeliverOrder200JSONResponse{OrderOKJSONResponse: orderOK(o)}, nil
}

func (s *Server) CancelOrder(ctx context.Context, req api.CancelOrderRequestObject) (api.CancelOrderResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	o, err := s.deps.Orders.Cancel(ctx, p, req.OrderId, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.CancelOrder200JSONResponse{OrderOKJSONResponse: orderOK(o)}, nil
}

func addressFromAPI(a api.ShippingAddress) orders.Address {
	return orders.Address{Name: a.Name, Line1: a.Line1, Line2: deref(a.Line2), City: a.City, PostalCode: a.PostalCode, Country: a.Country}
}

func toAPIOrder(o orders.Order) api.Order {
	out := api.Order{Id: o.ID, UserId: o.UserID, Status: api.OrderStatus(o.Status), SubtotalCents: o.SubtotalCents,
		TotalCents: o.TotalCents, Currency: o.Currency, Carrier: o.Carrier, TrackingNumber: o.TrackingNumber,
		CancellationReason: o.CancellationReason, CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(),
		PaidAt: utc(o.PaidAt), ShippedAt: utc(o.ShippedAt), DeliveredAt: utc(o.DeliveredAt), CancelledAt: utc(o.CancelledAt),
		ShippingAddress: api.ShippingAddress{Name: o.ShippingAddress.Name, Line1: o.ShippingAddress.Line1,
			City: o.ShippingAddress.City, PostalCode: o.ShippingAddress.PostalCode, Country: o.ShippingAddress.Country},
		Items: make([]api.OrderItem, 0, len(o.Items)),
	}
	if o.ShippingAddress.Line2 != "" {
		out.ShippingAddress.Line2 = &o.ShippingAddress.Line2
	}
	for _, it := range o.Items {
		out.Items = append(out.Items, api.OrderItem{ProductId: it.ProductID, Name: it.Name, UnitPriceCents: it.UnitPriceCents,
			Quantity: it.Quantity, LineTotalCents: it.LineTotalCents})
	}
	if p := o.Payment; p != nil {
		out.Payment = &api.Payment{Status: api.PaymentStatus(p.Status), AmountCents: p.AmountCents, Currency: p.Currency,
			ProviderReference: p.ProviderReference, CreatedAt: p.CreatedAt.UTC()}
	}
	return out
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
