package main

import (
	"html/template"
	"net/http"

	"github.com/cookiesession/cookiesession"
)

// pageData is what the page shows of the session.
type pageData struct {
	Flashes []cookiesession.Flash
	User    string
	Color   string
	Cart    []string
	Visits  int
	Bound   bool // the session is device-bound (-dbsc)
}

// page is GET /: html/template escapes every value, so a user name or a
// cart item cannot add markup. Every form posts with then=/, so the route
// redirects back here with a flash message.
var page = template.Must(template.New("page").Parse(`<!doctype html>
<meta charset="utf-8">
<title>cookiesession demo</title>
<h1>cookiesession demo</h1>
{{range .Flashes}}<p class="flash {{.Level}}">{{.Message}}</p>
{{end}}
<h2>Login</h2>
{{if .User}}<p>You are {{.User}}.</p>
<p id="binding">{{if .Bound}}This session is device-bound.{{else}}This session is not device-bound.{{end}}</p>
<form method="post" action="/logout"><input type="hidden" name="then" value="/"><button>Log out</button></form>
<form method="post" action="/logout-everywhere"><input type="hidden" name="then" value="/"><button>Log out everywhere</button></form>
{{else}}<p>You are not logged in.</p>
<form method="post" action="/login"><input type="hidden" name="then" value="/">
<label>User <input name="user" required maxlength="64"></label>
<label><input type="checkbox" name="remember" value="1"> Remember me for 30 days</label>
<button>Log in</button></form>
{{end}}
<h2>Favorite color</h2>
<p>{{with .Color}}Favorite color is {{.}}{{else}}Favorite color is not set{{end}}</p>
<form method="post" action="/color/set"><input type="hidden" name="then" value="/">
<input name="value" required> <button>Set color</button></form>
<h2>Cart</h2>
<ul>{{range .Cart}}<li>{{.}}{{else}}<li>Your cart is empty.{{end}}</ul>
<form method="post" action="/cart/add/apple"><input type="hidden" name="then" value="/"><button>Add an apple</button></form>
<form method="post" action="/cart/add/pear"><input type="hidden" name="then" value="/"><button>Add a pear</button></form>
<form method="post" action="/cart/clear"><input type="hidden" name="then" value="/"><button>Clear the cart</button></form>
<h2>Expiry</h2>
<form method="post" action="/expiry"><input type="hidden" name="then" value="/">
<label>End this session in <input name="seconds" type="number" min="0" max="1209600" value="60"> seconds (0: the default; at most 14 days)</label>
<button>Set expiry</button></form>
<h2>Plain text</h2>
<p><a href="/visits">/visits</a> counts visits ({{.Visits}} so far);
<a href="/color">/color</a>, <a href="/cart">/cart</a> and <a href="/whoami">/whoami</a> read the session.</p>
`))

// home writes the page. It reads the flash messages first, which removes
// them: the middleware saves that before the page goes out.
func home(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	flashes, err := s.Flashes()
	if err != nil {
		fail(w, err)
		return
	}
	d := pageData{
		Flashes: flashes,
		User:    cookiesession.GetOr(s, "user", ""),
		Color:   cookiesession.GetOr(s, "color", ""),
		Cart:    cookiesession.GetOr[[]string](s, "cart", nil),
		Visits:  cookiesession.GetOr(s, "visits", 0),
		Bound:   s.DeviceBound(),
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	page.Execute(w, d)
}
