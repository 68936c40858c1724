"""The organisers' private area: sign-in, dashboard, exports, data care."""
