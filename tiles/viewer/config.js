// Operator settings for the viewer (see docs/viewer.md). Default: no basemap, so no request
// leaves this server. Examples:
//   window.GEOPLATFORM_BASEMAP = { type: "raster", tiles: ["http://10.0.0.5/base/{z}/{x}/{y}.png"] };
//   window.GEOPLATFORM_BASEMAP = { type: "xyz", crs: "wgs84", attribution: "天地图",
//     tiles: ["https://t0.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=YOUR_KEY"] };
//   window.GEOPLATFORM_BASEMAP = { type: "gcj02", tiles: ["http://your-gcj02-tiles/{z}/{x}/{y}.png"] };
window.GEOPLATFORM_BASEMAP = null;
