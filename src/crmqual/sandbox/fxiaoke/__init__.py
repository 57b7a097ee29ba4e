"""The Fxiaoke (纷享销客 / ShareCRM) dialect of the sandbox: its open API (token endpoints in
body and header mode, `/cgi/crm/v2/data/{query,get,update,create}`, `object/describe`) over
the shared store, with Chinese seed data. See `sandbox/README.md`."""
