// Command lambda is an AWS Lambda function whose sessions live in sealed
// cookies. It serves API Gateway HTTP API events (payload format 2.0), which
// carry the browser's cookies in a cookies array and take the Set-Cookie
// values back in the response's cookies array, one value per line, so a
// session split over several cookies goes out whole.
//
// Every route answers in plain text. The routes that change the cart or
// end the session take POST (a GET of them gets 405 and "Allow: POST"), so
// that a link or an image on another site cannot trigger them:
//
//	GET  /visits           You have visited this page N times.
//	POST /cart/add/{item}  the cart's items after adding item, one per line
//	GET  /cart             the cart's items, one per line, or: Your cart is empty.
//	POST /cart/clear       Cart cleared.
//	POST /logout           Logged out.
//
// Responses that carry session cookies get "Cache-Control: private" and
// "Vary: Cookie" from the library (Manager.SaveHeader), so that no cache in
// front of the function stores one visitor's cookies for others.
//
// A session that would not fit in its cookies is not saved: the request gets
// 413 and the text "Session too large: clear the cart.", with no cookies.
// A cookie that does not open (altered, expired, sealed under an unknown
// key) is logged, and the request goes on with a fresh session.
//
// Keys come from the COOKIESESSION_KEYS environment variable, in the keyring
// text form of SPEC.md. The function refuses to start without it: Lambda runs
// many instances, and a key of their own would make each reject the
// cookies the others sealed.
//
// App.HandleREST and App.HandleFunctionURL serve the same routes for REST API
// (payload format 1.0) events and for Lambda function URLs; see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/cookiesession/cookiesession"
)

func main() {
	app, err := appFromEnv(os.Getenv)
	if err != nil {
		slog.Error("lambda: cannot start", "err", err)
		os.Exit(1)
	}
	// For a REST API, start app.HandleREST instead; for a function URL,
	// app.HandleFunctionURL.
	lambda.Start(app.Handle)
}

// keysVar is the environment variable that holds the keyring text.
const keysVar = "COOKIESESSION_KEYS"

// appFromEnv makes the App from the environment that getenv reads.
func appFromEnv(getenv func(string) string) (*App, error) {
	text := getenv(keysVar)
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("%s is not set: every instance of the function must share one keyring (cookiesession keygen prints one)", keysVar)
	}
	kr, err := cookiesession.ParseKeyring(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keysVar, err)
	}
	return NewApp(kr, cookiesession.Config{}, nil)
}

// App is the function's state: the session manager, shared by every
// invocation an instance serves, and a logger.
type App struct {
	m   *cookiesession.Manager
	log *slog.Logger
}

// NewApp returns an App whose sessions are sealed with kr and configured by
// cfg. A nil logger means slog.Default().
func NewApp(kr *cookiesession.Keyring, cfg cookiesession.Config, logger *slog.Logger) (*App, error) {
	m, err := cookiesession.New(kr, cfg)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &App{m: m, log: logger}, nil
}

// Handle serves an API Gateway HTTP API event, payload format 2.0. The
// request's cookies arrive in req.Cookies; the Set-Cookie values go out in
// the response's Cookies, never in its Headers, which hold one value a name.
func (a *App) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	path := routePath(req.RawPath, req.RequestContext.HTTP.Path, req.RequestContext.Stage)
	s, err := a.m.LoadCookies(ctx, req.Cookies)
	a.rejected(ctx, err, path)
	r := a.serve(ctx, req.RequestContext.HTTP.Method, path, s)
	return events.APIGatewayV2HTTPResponse{
		StatusCode: r.status,
		Headers:    r.headers(),
		Body:       r.body,
		Cookies:    r.cookies(),
	}, nil
}

// HandleFunctionURL serves a Lambda function URL event. Function URLs use
// payload format 2.0 too: cookies arrive in req.Cookies, and Set-Cookie
// values go out in the response's Cookies.
func (a *App) HandleFunctionURL(ctx context.Context, req events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	path := routePath(req.RawPath, req.RequestContext.HTTP.Path, "")
	s, err := a.m.LoadCookies(ctx, req.Cookies)
	a.rejected(ctx, err, path)
	r := a.serve(ctx, req.RequestContext.HTTP.Method, path, s)
	return events.LambdaFunctionURLResponse{
		StatusCode: r.status,
		Headers:    r.headers(),
		Body:       r.body,
		Cookies:    r.cookies(),
	}, nil
}

// HandleREST serves an API Gateway REST API event, payload format 1.0.
// There is no cookies array: the browser's Cookie headers arrive in
// req.MultiValueHeaders (and the last of them in req.Headers), and every
// Set-Cookie value must go out in the response's MultiValueHeaders, because
// Headers holds a single value for each name.
func (a *App) HandleREST(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	path := routePath(req.Path, "", "")
	s, err := a.m.LoadHeader(ctx, cookieHeader(req.MultiValueHeaders, req.Headers))
	a.rejected(ctx, err, path)
	r := a.serve(ctx, req.HTTPMethod, path, s)
	resp := events.APIGatewayProxyResponse{
		StatusCode: r.status,
		Headers:    r.headers(),
		Body:       r.body,
	}
	if c := r.cookies(); len(c) > 0 {
		resp.MultiValueHeaders = map[string][]string{"Set-Cookie": c}
	}
	return resp, nil
}

// cookieHeader joins the request's Cookie headers into one, as HTTP/2 does
// with a Cookie header split in parts. Header names in REST API events keep
// the client's case.
func cookieHeader(multi map[string][]string, single map[string]string) string {
	var parts []string
	for name, values := range multi {
		if strings.EqualFold(name, "Cookie") {
			parts = append(parts, values...)
		}
	}
	if len(parts) == 0 {
		for name, value := range single {
			if strings.EqualFold(name, "Cookie") {
				parts = append(parts, value)
			}
		}
	}
	return strings.Join(parts, "; ")
}

// routePath returns the path to route on: raw if set, else decoded, without
// the stage name that API Gateway puts in front when a stage other than
// $default serves the API.
func routePath(raw, decoded, stage string) string {
	p := raw
	if p == "" {
		p = decoded
	}
	if stage != "" && stage != "$default" {
		if rest, ok := strings.CutPrefix(p, "/"+stage); ok && strings.HasPrefix(rest, "/") {
			p = rest
		}
	}
	return p
}

// rejected logs why the request's session cookie could not be used, if it
// could not. The request goes on with the fresh session LoadCookies gave.
func (a *App) rejected(ctx context.Context, err error, path string) {
	if err == nil {
		return
	}
	level := slog.LevelWarn
	if errors.Is(err, cookiesession.ErrExpired) {
		level = slog.LevelInfo
	}
	a.log.Log(ctx, level, "session cookie rejected; starting a fresh session", "err", err, "path", path)
}

// reply is a response in the terms that every event format shares.
type reply struct {
	status int
	body   string
	header http.Header // with the Set-Cookie lines, once saved
}

// headers returns the reply's headers but Set-Cookie, one value a name,
// as the events' Headers maps hold them.
func (r reply) headers() map[string]string {
	h := make(map[string]string, len(r.header))
	for name, values := range r.header {
		if name != "Set-Cookie" {
			h[name] = strings.Join(values, ", ")
		}
	}
	return h
}

// cookies returns the reply's Set-Cookie values, which every event format
// carries apart from the other headers.
func (r reply) cookies() []string { return r.header.Values("Set-Cookie") }

func text(status int, format string, a ...any) reply {
	return reply{
		status: status,
		body:   fmt.Sprintf(format+"\n", a...),
		header: http.Header{
			"Content-Type":           {"text/plain; charset=utf-8"},
			"X-Content-Type-Options": {"nosniff"},
		},
	}
}

// serve runs the route for method and path with session s, then saves s,
// as the library's middleware would: not at all for a 5xx response, and
// never half: a session too large for its cookies gives 413 and no cookies.
// SaveHeader adds the Set-Cookie lines to the reply's header, with
// Cache-Control: private and Vary: Cookie.
func (a *App) serve(ctx context.Context, method, path string, s *cookiesession.Session) reply {
	r := a.route(ctx, method, path, s)
	if r.status >= 500 {
		return r
	}
	if err := a.m.SaveHeader(r.header, s); err != nil {
		a.log.ErrorContext(ctx, "cannot save session", "err", err, "path", path)
		if errors.Is(err, cookiesession.ErrTooLarge) {
			return text(http.StatusRequestEntityTooLarge, "Session too large: clear the cart.")
		}
		return text(http.StatusInternalServerError, "%s", http.StatusText(http.StatusInternalServerError))
	}
	return r
}

// isRoute reports whether path is one of the routes.
func isRoute(path string) bool {
	switch path {
	case "/visits", "/cart", "/cart/clear", "/logout":
		return true
	}
	return strings.HasPrefix(path, "/cart/add/")
}

// routeMethod returns the method that the route for path takes: POST for
// those that change the cart or end the session, GET for the others.
func routeMethod(path string) string {
	if path == "/logout" || path == "/cart/clear" || strings.HasPrefix(path, "/cart/add/") {
		return http.MethodPost
	}
	return http.MethodGet
}

// maxItem is the longest cart item name, in bytes.
const maxItem = 256

// route is the application: the routes of the package documentation.
func (a *App) route(ctx context.Context, method, path string, s *cookiesession.Session) reply {
	if !isRoute(path) {
		return text(http.StatusNotFound, "Not found.")
	}
	if want := routeMethod(path); method != want {
		r := text(http.StatusMethodNotAllowed, "Use %s.", want)
		r.header.Set("Allow", want)
		return r
	}
	switch {
	case path == "/visits":
		n, _, err := cookiesession.Get[int](s, "visits")
		if err != nil {
			return a.failed(ctx, err)
		}
		n++
		if err := s.Set("visits", n); err != nil {
			return a.failed(ctx, err)
		}
		return text(http.StatusOK, "You have visited this page %d times.", n)

	case strings.HasPrefix(path, "/cart/add/"):
		item, err := url.PathUnescape(strings.TrimPrefix(path, "/cart/add/"))
		if err != nil || item == "" || len(item) > maxItem || strings.Contains(item, "/") {
			return text(http.StatusBadRequest, "An item is 1 to %d bytes, without a slash.", maxItem)
		}
		cart, _, err := cookiesession.Get[[]string](s, "cart")
		if err != nil {
			return a.failed(ctx, err)
		}
		cart = append(cart, item)
		if err := s.Set("cart", cart); err != nil {
			return a.failed(ctx, err)
		}
		return showCart(cart)

	case path == "/cart":
		cart, _, err := cookiesession.Get[[]string](s, "cart")
		if err != nil {
			return a.failed(ctx, err)
		}
		return showCart(cart)

	case path == "/cart/clear":
		s.Delete("cart")
		return text(http.StatusOK, "Cart cleared.")

	case path == "/logout":
		s.Destroy()
		return text(http.StatusOK, "Logged out.")
	}
	return text(http.StatusNotFound, "Not found.")
}

func showCart(cart []string) reply {
	if len(cart) == 0 {
		return text(http.StatusOK, "Your cart is empty.")
	}
	return text(http.StatusOK, "%s", strings.Join(cart, "\n"))
}

// failed answers 500 for a session value that does not decode; the session
// is then not saved.
func (a *App) failed(ctx context.Context, err error) reply {
	a.log.ErrorContext(ctx, "bad session value", "err", err)
	return text(http.StatusInternalServerError, "%s", http.StatusText(http.StatusInternalServerError))
}
