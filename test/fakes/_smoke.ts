import sql from 'mssql'
import { startStellarStore } from './tds-server.ts'
import { salesFor } from './sales-data.ts'
const store = await startStellarStore({ tiendaId: 'tienda_20' })
const pool = new sql.ConnectionPool({ server: '127.0.0.1', port: store.port, user: 'etl', password: 'x', database: 'stellar', options: { encrypt: false, trustServerCertificate: true }, connectionTimeout: 1000, requestTimeout: 1000 })
await pool.connect()
const d1 = new Date('2026-03-01T10:00:00Z'), d2 = new Date('2026-03-01T12:00:00Z')
const r = await pool.request().input('desde', sql.DateTime2, d1).input('hasta', sql.DateTime2, d2).query('SELECT * FROM dbo.ventas_detalle WHERE fecha >= @desde AND fecha < @hasta')
console.log(r.recordset.length, r.rowsAffected, r.recordset[0], salesFor('tienda_20', d1, d2).length)
console.log(store.queries)
await store.setFault('stall_query')
let t = Date.now()
try { await pool.request().input('desde', sql.DateTime2, d1).input('hasta', sql.DateTime2, d2).query('SELECT * FROM dbo.ventas_detalle') } catch (e) { console.log('stall', Date.now() - t, e.name, e.code, e.message) }
await store.setFault(null)
t = Date.now()
const r2 = await pool.request().input('desde', sql.DateTime2, d1).input('hasta', sql.DateTime2, d2).query('SELECT * FROM dbo.ventas_detalle')
console.log('after stall', Date.now() - t, r2.recordset.length)
await pool.close(); await store.close()
